import * as core from '@actions/core';
import type { Credentials } from '../credentials.js';
import type { GitHub } from '../github/client.js';
import type { Removal } from '../github/publish.js';
import { type PullState, pullState } from '../github/pulls.js';
import {
  deleteNamespacesAndWait,
  listNamespaces,
  type Namespace,
  readNamespace,
} from '../kube/client/namespace.js';
import { lockEnvironment } from '../kube/release/lock.js';
import {
  instanceLabel,
  managedBy,
  managedByLabel,
  previewNamespace,
  prLabel,
  updatedAtAnnotation,
} from '../names.js';
import { thisRun } from '../runner.js';
import type { Settings } from '../settings.js';
import { formatAge } from '../util/duration.js';
import { errorText } from '../util/errors.js';
import { Timings } from '../util/timings.js';

// The preview sweep: every preview namespace of this app whose pull request is closed, or that no deploy
// has updated for longer than input preview-ttl, is deleted; the rest are kept, each with the reason.

export interface Preview {
  namespace: string;
  pr: number;
  /** the last preview deploy (the namespace's creation when it carries no note of one) */
  updatedAt: Date;
  terminating: boolean;
}

export interface Verdict {
  delete: boolean;
  reason: string;
}

export interface SweepEntry extends Preview, Verdict {}

export interface SweepResult {
  ttlMs: number;
  entries: SweepEntry[];
  /** the deleted previews, for the GitHub side */
  removed: Removal[];
  timings: Timings['steps'];
}

export async function sweep(
  settings: Settings,
  credentials: Credentials,
  gh: GitHub | undefined,
  now = new Date(),
): Promise<SweepResult> {
  const timings = new Timings();
  const cluster = await timings.step('cluster credentials', () => credentials.cluster());
  const previews = await timings.step(`list the previews of ${settings.appName}`, async () => {
    const namespaces = await listNamespaces(cluster, `${managedByLabel}=${managedBy},${prLabel}`);
    const found = previewsOf(namespaces, settings.appName);
    core.info(`${found.length} preview(s): ${found.map((p) => p.namespace).join(', ') || 'none'}`);
    return found;
  });

  const states = await timings.step('pull request states', async () => {
    const result = new Map<number, PullState | string>();
    if (!gh) {
      core.info("no github-token: previews are judged by their age alone (input 'preview-ttl')");
      return result;
    }
    for (const p of previews) {
      try {
        result.set(p.pr, await pullState(gh, p.pr));
      } catch (error) {
        core.warning(`${errorText(error)}; preview ${p.namespace} is judged by its age alone`);
        result.set(p.pr, errorText(error));
      }
    }
    return result;
  });

  const entries = previews.map((p) => ({
    ...p,
    ...verdict(p, states.get(p.pr), now, settings.previewTtlMs),
  }));
  for (const e of entries) core.info(`${e.namespace}: ${e.delete ? 'delete' : 'keep'} (${e.reason})`);
  const doomed: typeof entries = [];
  for (const e of entries.filter((x) => x.delete)) {
    // a deploy running there finishes first; then the preview is judged again (it may be fresh now)
    const lock = await timings.step(`lock ${e.namespace}`, () =>
      lockEnvironment(cluster, {
        run: thisRun(),
        namespace: e.namespace,
        instance: e.namespace,
        rolloutTimeoutMs: settings.rolloutTimeoutMs,
        purpose: 'sweep',
      }).catch((error) => {
        core.warning(`${e.namespace}: ${errorText(error)}; left for the next sweep`);
        return undefined;
      }),
    );
    if (!lock) continue;
    const again = await readNamespace(cluster, e.namespace);
    const preview = again ? previewsOf([again], settings.appName)[0] : undefined;
    const still = preview ? verdict(preview, states.get(e.pr), now, settings.previewTtlMs) : undefined;
    if (!still?.delete) {
      await lock.release();
      Object.assign(e, { delete: false, reason: still?.reason ?? 'gone meanwhile' });
      core.info(`${e.namespace}: keep after all (${e.reason})`);
      continue;
    }
    lock.forget();
    doomed.push(e);
  }
  if (doomed.length > 0)
    await timings.step(`delete ${doomed.map((e) => e.namespace).join(', ')}`, () =>
      deleteNamespacesAndWait(
        cluster,
        doomed.map((e) => e.namespace),
        settings.rolloutTimeoutMs,
      ),
    );
  return {
    ttlMs: settings.previewTtlMs,
    entries,
    removed: doomed.map((e) => ({ pr: e.pr, namespace: e.namespace, reason: e.reason })),
    timings: timings.steps,
  };
}

/** The namespaces that are previews of this app: <app>-pr-<n>, labelled with that pull request. */
export function previewsOf(namespaces: Namespace[], appName: string): Preview[] {
  const previews: Preview[] = [];
  for (const ns of namespaces) {
    const name = ns.metadata?.name ?? '';
    const pr = Number(ns.metadata?.labels?.[prLabel]);
    if (!Number.isInteger(pr) || pr < 1 || name !== previewNamespace(appName, pr)) continue;
    if (ns.metadata?.labels?.[instanceLabel] !== name) continue;
    const noted = Date.parse(ns.metadata?.annotations?.[updatedAtAnnotation] ?? '');
    const created = Date.parse(ns.metadata?.creationTimestamp ?? '');
    previews.push({
      namespace: name,
      pr,
      updatedAt: new Date(Number.isNaN(noted) ? created : noted),
      terminating: Boolean(ns.metadata?.deletionTimestamp) || ns.status?.phase === 'Terminating',
    });
  }
  return previews.sort((a, b) => a.pr - b.pr);
}

/** Delete or keep one preview (pure). state: the pull request's, or why it could not be read. */
export function verdict(
  p: Preview,
  state: PullState | string | undefined,
  now: Date,
  ttlMs: number,
): Verdict {
  const age = now.getTime() - p.updatedAt.getTime();
  const updated = `last deployed ${formatAge(age)} ago`;
  if (p.terminating) return { delete: true, reason: 'it was already being deleted' };
  if (state === 'closed') return { delete: true, reason: `pull request #${p.pr} is closed` };
  if (Number.isNaN(age) || age > ttlMs)
    return {
      delete: true,
      reason: `${Number.isNaN(age) ? 'no deploy time recorded' : updated}, longer than preview-ttl ${formatAge(ttlMs)}`,
    };
  const pull =
    state === 'open'
      ? `pull request #${p.pr} is open`
      : state === undefined
        ? `pull request #${p.pr} not checked`
        : `state of pull request #${p.pr} unknown`;
  return { delete: false, reason: `${pull}, ${updated} (preview-ttl ${formatAge(ttlMs)})` };
}
