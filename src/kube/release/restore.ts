import type { KubernetesObject } from '@kubernetes/client-node';
import { managedBy } from '../../names.js';
import { applySet } from '../apply/apply.js';
import { prune } from '../apply/prune.js';
import type { ApplyResult } from '../apply/types.js';
import type { Cluster } from '../client/client.js';
import { kindOf } from '../kinds.js';
import { isPreDeploy } from '../rollout/pre-deploy.js';
import { type SetTrackOptions, type Tracked, trackSet } from '../rollout/track-set.js';
import { forceStatefulSetRollback } from '../rollout/track-workload.js';
import type { Release } from './release.js';

// Bringing a release back, whole (but for its pre-deploy objects): its set applied again, what it did not
// hold removed, and the pods a StatefulSet would otherwise wait on forever (a broken pod of the later
// release) deleted; then its rollouts followed. The one path for the automatic restore after a failed
// deploy (jobs/deploy/failure.ts) and for the manual rollback (jobs/rollback-release.ts).

/**
 * The workloads whose rollout a restore starts again, Deployments first: its Deployments, StatefulSets and
 * DaemonSets (its Jobs are not run again, nor its pre-deploy objects applied).
 */
export function restoredWorkloads(release: Release): KubernetesObject[] {
  const rollouts = release.objects.filter((o) => {
    const rollout = kindOf(o.kind)?.rollout;
    return rollout !== undefined && rollout !== 'job' && !isPreDeploy(o);
  });
  return [
    ...rollouts.filter((o) => o.kind === 'Deployment'),
    ...rollouts.filter((o) => o.kind !== 'Deployment'),
  ];
}

/**
 * Follows the rollouts a restore started, one after another (what comes back rolled out before); throws
 * TrackFailure for the first that does not complete.
 */
export function trackRestored(
  cluster: Cluster,
  namespace: string,
  release: Release,
  options: SetTrackOptions,
): Promise<Tracked[]> {
  return trackSet(cluster, namespace, restoredWorkloads(release), { ...options, together: false });
}

export async function restoreRelease(
  cluster: Cluster,
  namespace: string,
  instance: string,
  release: Release,
  log: (line: string) => void,
): Promise<ApplyResult> {
  // its pre-deploy Jobs ran with it: a restore does not run them again
  const applied = await applySet(
    cluster,
    release.objects.filter((o) => !isPreDeploy(o)),
    {
      fieldManager: managedBy,
      force: true,
      namespace,
    },
  );
  for (const o of applied.objects) if (o.action !== 'unchanged') log(`${o.kind}/${o.name} ${o.action}`);
  const pruned = await prune(cluster, namespace, instance, release.objects);
  for (const p of pruned) log(`${p.kind}/${p.name} removed (not in release ${release.number})`);
  for (const s of release.objects.filter((o) => o.kind === 'StatefulSet')) {
    const deleted = await forceStatefulSetRollback(cluster, namespace, s.metadata?.name ?? '');
    if (deleted.length > 0)
      log(
        `StatefulSet/${s.metadata?.name}: deleted ${deleted.join(', ')}, broken pods of the failed release, so that the restored template replaces them`,
      );
  }
  return applied;
}
