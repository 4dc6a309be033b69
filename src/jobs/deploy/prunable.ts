import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import { findPrunable, type Prunable } from '../../kube/apply/prune.js';
import { type ReleaseInfo, readRelease } from '../../kube/release/release.js';
import { errorText } from '../../util/errors.js';
import type { DeployRun } from './run.js';

// What this deploy's prune will delete. Only the kinds the instance's releases hold can have objects of
// the instance: each deploy prunes what its set dropped and a failed one is restored, so a kind that no
// release since the last deployed one holds has no object left to prune. Listing those kinds alone spares
// the API server a list (and a discovery) per other kind, read while the endpoints are checked. Without a
// readable deployed release (the first deploy, or records that cannot be read), every prunable kind is
// listed.

/** The objects prune will delete, from the lists of the kinds the releases since the last deployed hold. */
export async function prunableOf(
  ctx: DeployRun,
  set: KubernetesObject[],
  releases: ReleaseInfo[],
): Promise<Prunable[]> {
  const kinds = await recordedKinds(ctx, set, releases);
  return findPrunable(ctx.cluster, ctx.plan.namespace, ctx.plan.render.instance, set, kinds ? { kinds } : {});
}

async function recordedKinds(
  ctx: DeployRun,
  set: KubernetesObject[],
  releases: ReleaseInfo[],
): Promise<Set<string> | undefined> {
  const { previous } = ctx;
  if (!previous) return undefined;
  // failed, pending or paused releases after it: one left as it was (rollback-on-failure off) keeps its objects
  const later = releases.filter((r) => r.number > previous.number && r.number !== ctx.release?.number);
  try {
    const read = await Promise.all(later.map((r) => readRelease(ctx.cluster, ctx.plan.namespace, r)));
    return new Set([...set, ...previous.objects, ...read.flatMap((r) => r.objects)].map((o) => o.kind ?? ''));
  } catch (error) {
    core.info(`prune lists every kind: a release record cannot be read (${errorText(error)})`);
    return undefined;
  }
}
