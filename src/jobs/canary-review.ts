import * as core from '@actions/core';
import type { Credentials } from '../credentials.js';
import { repairCanary } from '../kube/canary/repair.js';
import type { Cluster } from '../kube/client/client.js';
import type { Manifest } from '../kube/manifests/load.js';
import { ingressUrl, urlOfSet } from '../kube/reach/reach.js';
import {
  lastDeployed,
  listReleases,
  markRelease,
  pausedRelease,
  type Release,
  readRelease,
} from '../kube/release/release.js';
import { managedBy } from '../names.js';
import { planDeploy, type RunInfo } from '../plan.js';
import type { Settings } from '../settings.js';
import { Timings } from '../util/timings.js';
import { type DeployResult, startResult } from './deploy/result.js';
import { applyAndTrack } from './deploy.js';
import { lockForRollback, type RollbackResult } from './rollback.js';

// A canary that canary-pause stopped below 100 % waits, its route split, for a review. Mode promote takes
// it on from its weight through the remaining steps, measured again, and then settles it as a deploy does
// (the stable Deployment takes its template, the canary is pruned, the release is deployed); a failed step
// restores the previous release. Mode abort sends the route back to the last deployed release and removes
// the canary. Both act on what the release recorded, never on the checkout: a promote deploys exactly what
// was measured.

export interface CanaryReview {
  cluster: Cluster;
  namespace: string;
  instance: string;
  paused: Release & { pausedAt: number };
  timings: Timings;
}

/** The paused release of production; a clear error when there is none, naming what there is. */
export async function planReview(
  settings: Settings,
  credentials: Credentials,
  mode: 'promote' | 'abort',
): Promise<CanaryReview> {
  if (settings.environment.kind !== 'production')
    throw new Error(
      `input 'environment': mode ${mode} acts on production's canary; a preview has none (previews roll out)`,
    );
  const timings = new Timings();
  const namespace = settings.namespace;
  const instance = settings.appName;
  const cluster = await timings.step('cluster credentials', () => credentials.cluster());
  const releases = await listReleases(cluster, namespace, instance);
  const info = pausedRelease(releases);
  if (!info?.pausedAt) {
    const newest = releases.at(-1);
    throw new Error(
      `mode ${mode}: no canary of ${instance} in namespace '${namespace}' waits for a review; ${
        newest
          ? `the newest release, ${newest.number} (commit ${newest.sha.slice(0, 7)}), is ${newest.outcome}${newest.note ? ` (${newest.note})` : ''}`
          : 'it has no releases'
      }. A canary pauses only in a deploy with strategy canary and canary-pause true; nothing was changed.`,
    );
  }
  const paused = { ...(await readRelease(cluster, namespace, info)), pausedAt: info.pausedAt };
  core.info(
    `release ${paused.number} (commit ${paused.sha.slice(0, 7)}, ${paused.image}): canary paused at ${paused.pausedAt} %`,
  );
  return { cluster, namespace, instance, paused, timings };
}

/** The paused canary on to 100 %, measured at each remaining step, then settled as a deploy settles. */
export async function promote(
  settings: Settings,
  credentials: Credentials,
  run: RunInfo,
  review: CanaryReview,
): Promise<DeployResult> {
  if (settings.strategy.kind !== 'canary')
    throw new Error(
      `input 'strategy': mode promote measures the canary's remaining steps; set strategy canary with the canary-* inputs of the deploy that paused it`,
    );
  const { paused, timings } = review;
  const plan = planDeploy(settings, { ...run, sha: paused.sha });
  const registry = await timings.step(`registry credentials ${settings.registry.host}`, () =>
    credentials.registry(),
  );
  const source = `release ${paused.number}`;
  const manifests: Manifest[] = paused.objects.map((object) => ({
    file: source,
    line: 0,
    object: object as Manifest['object'],
  }));
  const result = startResult(plan, paused.image, urlOfSet(paused.objects), timings);
  core.info(`promoting ${source}: the canary goes on from ${paused.pausedAt} %`);
  return applyAndTrack(
    {
      settings,
      run: { ...run, sha: paused.sha },
      plan,
      cluster: review.cluster,
      registry,
      timings,
      image: paused.image,
      result,
      serving: new Map(),
      resume: paused,
    },
    manifests,
    { podSecurityFails: false, ownsNamespace: false },
  );
}

/** The route back to the last deployed release, the canary removed, the paused release failed. */
export async function abortCanary(
  settings: Settings,
  review: CanaryReview,
  actor: string,
): Promise<RollbackResult> {
  const { cluster, namespace, instance, paused, timings } = review;
  await using _lock = await lockForRollback(settings, { cluster, namespace, instance, timings });
  const releases = await listReleases(cluster, namespace, instance);
  const deployedInfo = lastDeployed(releases);
  const deployed = deployedInfo && (await readRelease(cluster, namespace, deployedInfo));
  const done = await timings.step('take the canary back', () =>
    repairCanary(cluster, namespace, instance, deployed),
  );
  for (const line of done) core.info(line);
  const stillPaused = releases.find((r) => r.number === paused.number && r.outcome === 'paused');
  if (stillPaused)
    await markRelease(
      cluster,
      namespace,
      stillPaused,
      'failed',
      `canary paused at ${paused.pausedAt} % aborted by hand${actor ? ` (${actor})` : ''}`,
    );
  const deployment = paused.objects.find((o) => o.kind === 'Deployment')?.metadata?.name ?? '';
  core.info(
    `the canary of release ${paused.number} is gone: release ${deployed?.number ?? '?'} takes all the traffic again (field manager ${managedBy})`,
  );
  return {
    environment: 'production',
    namespace,
    deployment,
    revisions: [],
    from: paused.number,
    to: deployed?.number ?? 0,
    unchanged: done.length === 0 && !stillPaused,
    revision: 0,
    image: deployed?.image ?? '',
    digest: deployed?.image.split('@')[1] ?? '',
    url: await ingressUrl(cluster, namespace),
    timings: timings.steps,
    releases,
    canaryState: 'aborted',
    sentence: `The canary of release ${paused.number} (commit ${paused.sha.slice(0, 7)}) was aborted at ${paused.pausedAt} %: release ${deployed?.number ?? '?'} takes all the traffic again and the canary's Deployment and Service are gone.`,
  };
}
