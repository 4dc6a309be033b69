import type { KubernetesObject } from '@kubernetes/client-node';
import { managedBy } from '../../names.js';
import { type ApplyResult, applySet, prune } from '../apply/apply.js';
import type { Cluster } from '../client/client.js';
import { kindOf } from '../kinds.js';
import { isPreDeploy } from '../rollout/pre-deploy.js';
import { forceStatefulSetRollback } from '../rollout/track-workload.js';
import type { Release } from './release.js';

// Bringing a release back, whole (but for its pre-deploy objects): its set applied again, what it did not hold removed, and the pods a
// StatefulSet would otherwise wait on forever (a broken pod of the later release) deleted. The one path for
// the automatic restore after a failed deploy and for the manual rollback; the callers track the rollouts.

/**
 * The workloads of a restored release the callers track besides its Deployments: those whose rollout the
 * restore starts again (StatefulSets, DaemonSets; its Jobs are not run again).
 */
export function restoredWorkloads(release: Release): KubernetesObject[] {
  return release.objects.filter((o) => {
    const rollout = kindOf(o.kind)?.rollout;
    return (rollout === 'statefulset' || rollout === 'daemonset') && !isPreDeploy(o);
  });
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
