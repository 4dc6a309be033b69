import * as core from '@actions/core';
import { ingressUrl } from '../kube/reach/reach.js';
import {
  abandonPaused,
  lastDeployed,
  listReleases,
  markRelease,
  type Release,
  type ReleaseInfo,
  recordRelease,
} from '../kube/release/release.js';
import { restoreRelease, trackRestored } from '../kube/release/restore.js';
import { TrackFailure, trackerText, trackingOptions } from '../kube/rollout/track-set.js';
import type { RollbackTarget, Settings } from '../settings.js';
import { errorText } from '../util/errors.js';
import { lockForRollback, type RollbackPlan, type RollbackResult } from './rollback.js';

// The manual rollback of an environment that has release records (kube/release/release.ts): the target is a
// release, and the whole of its set comes back (every Deployment, ConfigMaps, Services, Ingress), what it
// did not hold is removed, and the restore is recorded as a new release. Environments deployed before
// releases were recorded roll back one Deployment's template (rollback.ts).

/** Releases that can be restored: deployed once. A failed or pending one never served. */
const restorable = (r: ReleaseInfo) => r.outcome === 'deployed' || r.outcome === 'superseded';

/** The release a target names (pure); undefined when the releases alone cannot tell. */
export function findRelease(target: RollbackTarget, releases: ReleaseInfo[]): ReleaseInfo | undefined {
  const newestFirst = [...releases].sort((a, b) => b.number - a.number);
  const current = lastDeployed(releases);
  switch (target.kind) {
    case 'previous':
      return newestFirst.find(
        (r) => restorable(r) && r.number < (current?.number ?? Number.POSITIVE_INFINITY),
      );
    case 'revision':
      return releases.find((r) => r.number === target.revision && restorable(r));
    case 'image': {
      const ref = target.ref.toLowerCase();
      if (!/^[0-9a-f]{7,40}$/.test(ref)) return undefined;
      return newestFirst.find((r) => restorable(r) && r.sha.startsWith(ref));
    }
  }
}

export function validReleaseTargets(releases: ReleaseInfo[]): string {
  const previous = findRelease({ kind: 'previous' }, releases);
  const current = lastDeployed(releases);
  const list = [...releases]
    .filter(restorable)
    .sort((a, b) => b.number - a.number)
    .map(
      (r) => `${r.number} (git sha ${r.sha.slice(0, 7)}${r.number === current?.number ? ', current' : ''})`,
    );
  if (list.length === 0) return 'none (no release was ever deployed)';
  return [previous ? `previous (= release ${previous.number})` : undefined, ...list]
    .filter(Boolean)
    .join(', ');
}

export function releaseLine(r: ReleaseInfo, current?: ReleaseInfo): string {
  return `release ${r.number}${r.number === current?.number ? ' (current)' : ''}: ${r.outcome}, commit ${r.sha.slice(0, 7)}, ${r.image}, ${r.created}${r.note ? ` (${r.note})` : ''}`;
}

/** Restores plan.release whole and tracks its workloads; the restore is recorded as a new release. */
export async function rollbackRelease(
  settings: Settings,
  plan: RollbackPlan & { release: Release },
  result: RollbackResult,
): Promise<RollbackResult> {
  const { cluster, namespace, timings, release } = plan;
  await using _lock = await lockForRollback(settings, plan);
  // read again under the lock: a deploy may have finished meanwhile
  const all = await listReleases(cluster, namespace, plan.instance);
  const current = lastDeployed(all);
  Object.assign(result, {
    from: current?.number ?? 0,
    to: release.number,
    image: release.image,
    digest: release.image.split('@')[1] ?? '',
    // as they were before: markRelease below changes the current one in place
    releases: all.map((r) => ({ ...r })),
  });
  if (current?.number === release.number) {
    result.unchanged = true;
    core.info(`release ${release.number} is what ${plan.environment} runs already: nothing to change`);
    return result;
  }
  await timings.step(`restore release ${release.number} (its whole set)`, () =>
    restoreRelease(cluster, namespace, plan.instance, release, (line) => core.info(line)),
  );
  // a canary paused for review went with the restore (the route is the release's, the canary pruned)
  await abandonPaused(
    cluster,
    namespace,
    all,
    `was taken back by a manual rollback to release ${release.number}`,
  );
  const note = `release ${release.number} restored by a manual rollback`;
  if (current)
    await markRelease(
      cluster,
      namespace,
      current,
      'superseded',
      `rolled back by hand to release ${release.number}`,
    );
  const record = (outcome: 'deployed' | 'failed') =>
    recordRelease(
      cluster,
      namespace,
      plan.instance,
      { sha: release.sha, image: release.image, objects: release.objects, outcome, note },
      all,
    );
  // every workload it holds rolls back, tracked as the automatic restore tracks them
  try {
    await trackRestored(cluster, namespace, release, {
      ...trackingOptions(settings, plan),
      time: (name, work) => timings.step(name, work),
      onDone: (done) => {
        if (done.kind === 'Deployment' && done.name === plan.deployment)
          result.revision = done.revision ?? result.revision;
      },
    });
  } catch (error) {
    if (!(error instanceof TrackFailure)) throw error;
    await record('failed').catch((e) => core.warning(`could not record the restore: ${errorText(e)}`));
    result.diagnosis = error.diagnosis;
    throw new Error(
      `the rollback to release ${release.number} (${release.sha.slice(0, 7)}) did not roll out: ${error.diagnosis?.summary ?? `${error.ref}: ${trackerText(error)}`}`,
      { cause: error },
    );
  }
  const recorded = await record('deployed');
  result.recorded = recorded.number;
  result.url = await ingressUrl(cluster, namespace);
  core.info(
    `release ${release.number} (${release.sha.slice(0, 7)}) serves again, whole; recorded as release ${recorded.number}`,
  );
  return result;
}
