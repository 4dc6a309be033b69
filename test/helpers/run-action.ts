import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ActionRun {
  code: number;
  log: string;
  outputs: Record<string, string>;
  summary: string;
  /** the ::error:: message, decoded */
  error: string;
}

/** Runs dist/index.js through scripts/run-action.mjs, as the runner would; resolves when it exits. */
export async function runAction(
  inputs: Record<string, string>,
  options: {
    event?: string;
    sha?: string;
    ref?: string;
    payload?: string;
    env?: Record<string, string>;
    /** the pid of the process that runs dist/index.js, once it runs (to signal it as a runner would) */
    onStart?: (pid: number) => void;
    /** a command the run goes through, e.g. unshare to change what the runner's filesystem holds */
    prefix?: string[];
    /** another repository's checkout to run on (scripts/run-action.mjs --workspace) */
    workspace?: string;
  } = {},
): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'));
  const args = ['scripts/run-action.mjs', '--outputs-file', join(dir, 'out.json')];
  args.push('--summary-file', join(dir, 'summary.md'));
  for (const [k, v] of Object.entries(inputs)) args.push('--input', `${k}=${v}`);
  if (options.event) args.push('--event', options.event);
  if (options.sha) args.push('--sha', options.sha);
  if (options.workspace) args.push('--workspace', options.workspace);
  if (options.ref) args.push('--ref', options.ref);
  if (options.payload) args.push('--payload', options.payload);
  // jest's process.env is the test's copy: variables for the run (GITHUB_API_URL) are passed on here
  const env = { ...process.env, ...options.env };
  // kustomize and helm where a hosted runner has them: on PATH (scripts/local-stack builds them)
  if (process.env.RENDER_TOOLS && !options.env?.PATH)
    env.PATH = `${process.env.RENDER_TOOLS}:${env.PATH ?? ''}`;
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command ?? process.execPath, [...prefixArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let log = '';
  let started = false;
  child.stdout.on('data', (d) => {
    log += d;
    // scripts/run-action.mjs runs dist/index.js as its one child: known once the action prints
    if (!started && options.onStart && child.pid) {
      started = true;
      const pid = Number(
        execFileSync('pgrep', ['-P', String(child.pid)])
          .toString()
          .trim()
          .split('\n')[0],
      );
      if (pid) options.onStart(pid);
    }
  });
  child.stderr.on('data', (d) => {
    log += d;
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  try {
    const read = (name: string) => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    const error = [...log.matchAll(/^::error::(.*)$/gm)]
      .map((m) => (m[1] ?? '').replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%'))
      .join('\n');
    return { code, log, outputs: JSON.parse(read('out.json') || '{}'), summary: read('summary.md'), error };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A repository of this test file's own (jest loads the module once per file): a fixed commit sha under a
// shared name would deploy whatever an earlier run, or another test, pushed under it.
const repository = `e2e-${randomBytes(3).toString('hex')}/archetype`;

/**
 * The inputs that point the action at the local deploy target (scripts/local-stack env), with an image
 * repository of this test file's own. The smoke check is off: these deploys land on kwok nodes, whose pods
 * run no process; tests on the real node turn it on.
 */
export function localTargetInputs(): Record<string, string> {
  const need = ['REGISTRY', 'REGISTRY_USERNAME', 'REGISTRY_PASSWORD', 'KUBECONFIG', 'NODE_IMAGE'];
  const missing = need.filter((n) => !process.env[n]);
  if (missing.length > 0)
    throw new Error(
      `${missing.join(', ')} not set: run scripts/local-stack up and eval "$(scripts/local-stack env)" (scripts/test does both)`,
    );
  const env = (name: string) => process.env[name] ?? '';
  return {
    registry: env('REGISTRY'),
    'registry-username': env('REGISTRY_USERNAME'),
    'registry-password': env('REGISTRY_PASSWORD'),
    kubeconfig: readFileSync(env('KUBECONFIG'), 'utf8'),
    'build-args': `NODE_IMAGE=${env('NODE_IMAGE')}`,
    // the machine's CA bundle, for npm behind a TLS-intercepting proxy; a build secret, not in the image
    'build-secret-files': 'ca_certs=/etc/ssl/certs/ca-certificates.crt',
    'image-name': repository,
    'smoke-check': 'false',
  };
}

/**
 * Throws unless the run succeeded. The message leads with what explains a failed rollout (the lines about
 * pods, containers, images and events), since CI shows only the start of a long message.
 */
export function expectRunOk(run: ActionRun, context = ''): void {
  if (run.code === 0) return;
  const telling = run.log
    .split('\n')
    .filter((line) => /pod|container|image|event|warning|back-off|pull|oom|probe/i.test(line))
    .filter((line) => !line.startsWith('::add-mask::'))
    .slice(-40);
  throw new Error(
    `the action failed (${run.code}): ${run.error}\n${context ? `${context}\n` : ''}-- pods, containers, events in its log:\n${telling.join('\n')}\n-- log tail:\n${run.log.slice(-2500)}`,
  );
}
