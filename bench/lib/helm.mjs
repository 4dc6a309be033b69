// Helm 4 as a team would use it instead of the action for the same change (issue 27): a minimal chart whose
// templates are the objects the action would apply (the image by digest and the host as values), installed
// with `helm upgrade --install --wait`. Helm 4 applies server-side for a new release, keeps a release record
// in a Secret and waits with kstatus (--wait=watcher): the cluster side of what the action does. It builds
// no image, takes no lock, runs no preflight, prunes what the chart dropped (as the action does) and smoke
// checks nothing; those are the action's own.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { now } from './clock.mjs';

/** The helm binary the local target built (scripts/local-stack env puts it on RENDER_TOOLS). */
export function helmBinary() {
  const dirs = (process.env.RENDER_TOOLS ?? '').split(':').filter(Boolean);
  const found = dirs.map((d) => join(d, 'helm')).find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `no helm on RENDER_TOOLS ('${process.env.RENDER_TOOLS ?? ''}'): build it with scripts/local-stack build`,
    );
  return found;
}

/**
 * A chart from a folder the action's render wrote (bench/lib/render.mjs): each object a template, its
 * image and host replaced by {{ .Values.image }} and {{ .Values.host }}.
 */
export function chartFrom(folder, { image, host }) {
  const chart = mkdtempSync(join(tmpdir(), 'bench-helm-'));
  mkdirSync(join(chart, 'templates'));
  writeFileSync(
    join(chart, 'Chart.yaml'),
    'apiVersion: v2\nname: archetype\nversion: 0.1.0\ndescription: the archetype, for the benchmark\n',
  );
  writeFileSync(join(chart, 'values.yaml'), `image: ""\nhost: ""\n`);
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.yaml'))) {
    let text = readFileSync(join(folder, file), 'utf8');
    if (text.includes('{{'))
      throw new Error(`${file}: holds '{{', which Helm would read as a template; the chart cannot be made`);
    text = text.replaceAll(image, '{{ .Values.image }}');
    if (host) text = text.replaceAll(host, '{{ .Values.host }}');
    writeFileSync(join(chart, 'templates', file), text);
  }
  return chart;
}

/**
 * `helm upgrade --install --wait` of the chart; resolves with its start and exit times, and its error output
 * when it failed (never throws on a failed upgrade: the failure section measures those).
 */
export async function helmUpgrade(helm, chart, options) {
  const { release, namespace, image, host, timeout = '5m', rollbackOnFailure = false, kubeconfig } = options;
  const args = [
    'upgrade',
    '--install',
    release,
    chart,
    '--namespace',
    namespace,
    '--set-string',
    `image=${image}`,
    '--set-string',
    `host=${host ?? ''}`,
    '--wait',
    '--timeout',
    timeout,
    ...(rollbackOnFailure ? ['--rollback-on-failure'] : []),
  ];
  const started = now();
  try {
    const env = kubeconfig ? { ...process.env, KUBECONFIG: kubeconfig } : process.env;
    await promisify(execFile)(helm, args, { env, timeout: 900_000 });
    return { started, exited: now(), ok: true, error: '' };
  } catch (error) {
    return { started, exited: now(), ok: false, error: String(error.stderr || error.message) };
  }
}
