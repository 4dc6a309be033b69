import * as core from '@actions/core';
import { describeVerdict } from '../../kube/canary/analysis.js';
import { findCanaryTarget } from '../../kube/canary/plan.js';
import { type LeftCanary, repairCanary } from '../../kube/canary/repair.js';
import { CanaryAbort, type CanaryStep, runCanary } from '../../kube/canary/run.js';
import type { Manifest } from '../../kube/manifests/load.js';
import { abandonPaused, markRelease, type ReleaseInfo } from '../../kube/release/release.js';
import { trackingOptions, trackSet } from '../../kube/rollout/track-set.js';
import { managedBy } from '../../names.js';
import type { Settings } from '../../settings.js';
import { type Preflighted, recordBeforeWrite } from './apply.js';
import type { DeployRun } from './run.js';

// strategy canary, between preflight and the release's apply: the canary's steps (kube/canary/run.ts) on
// production, once a stable Deployment serves. The release is recorded first, so that an aborted step
// restores the previous release like any failure after a write; passed, the release's own apply promotes it
// (the stable Deployment takes the new template, the route its one backend) and prune removes the canary.
// With canary-pause the run stops below 100 %, split, and mode promote (jobs/canary-review.ts) goes on.

/** strategy canary on production: the set's shape (an HTTPRoute to the one Deployment), before the build. */
export function checkCanarySet(settings: Settings, rendered: Manifest[], pr: number | undefined): void {
  if (settings.strategy.kind === 'canary' && pr === undefined) findCanaryTarget(rendered);
}

/**
 * The canary's steps, before the release's own apply; true when canary-pause stops it below 100 %, the
 * route split and the release marked paused (mode promote goes on from there: ctx.resume).
 */
export async function canaryFirst(
  ctx: DeployRun,
  manifests: Manifest[],
  before: Preflighted,
  signal: AbortSignal,
): Promise<boolean> {
  const { settings, plan, cluster } = ctx;
  if (settings.strategy.kind !== 'canary' || ctx.pr !== undefined) return false;
  const canary = settings.strategy.canary;
  const target = findCanaryTarget(manifests);
  const name = target.deployment.metadata?.name ?? '';
  const live = before.checked.live.get(`Deployment/${name}`) as { spec?: { replicas?: number } } | undefined;
  if (!live || !ctx.previous) {
    if (ctx.resume)
      throw new Error(
        `release ${ctx.resume.number} cannot be promoted: Deployment/${name} has no deployed release to compare its canary with; abort it (mode abort) and deploy again`,
      );
    core.notice(
      `strategy canary: Deployment/${name} has no deployed release to compare a canary with yet, so this first deploy rolls out`,
    );
    return false;
  }
  await recordBeforeWrite(
    ctx,
    manifests.map((m) => m.object),
    before,
  );
  ctx.applying = true;
  const from = ctx.resume?.pausedAt ?? 0;
  const pausing = canary.pause && !ctx.resume;
  const steps = canary.steps.filter((s) => s > from && !(pausing && s === 100));
  core.info(
    `canary of Deployment/${name}: steps ${steps.join(' → ')} %, each held ${canary.stepMs / 1000} s${from ? ` (taken on from ${from} %, where it paused)` : ''}${pausing ? ', then paused for review' : ''}`,
  );
  const figures = (done: CanaryStep[]) => [
    ...(ctx.resume?.note ? [ctx.resume.note] : []),
    ...done.map((s) => describeVerdict(s.weight, s.verdict)),
  ];
  const done = await ctx.timings.step('canary', () =>
    runCanary(cluster, target, {
      namespace: plan.namespace,
      fieldManager: managedBy,
      canary: { ...canary, steps },
      path: settings.smokePath,
      stableReplicas: live.spec?.replicas ?? 1,
      rollOut: async (deployment) => {
        await trackSet(cluster, plan.namespace, [deployment], { ...trackingOptions(settings, plan), signal });
      },
      log: (line) => core.info(line),
      signal,
    }).catch((error: unknown) => {
      if (error instanceof CanaryAbort) ctx.result.canary = figures(error.steps);
      throw error;
    }),
  );
  // the summary shows them, and the release record keeps them once it is marked deployed (or paused)
  ctx.result.canary = figures(done);
  if (!pausing) return false;
  const weight = steps.at(-1) ?? 0;
  await pause(ctx, weight);
  return true;
}

/** The release waits, split at `weight` %, for mode promote or abort; its figures are kept in its record. */
async function pause(ctx: DeployRun, weight: number): Promise<void> {
  const { cluster, plan, result } = ctx;
  if (!ctx.release) throw new Error('a canary paused before its release was recorded');
  const note = `canary paused at ${weight} % after ${result.canary?.join('; ') ?? ''}`;
  await markRelease(cluster, plan.namespace, ctx.release, 'paused', note, weight);
  result.paused = weight;
  result.waiting = `canary of release ${ctx.release.number} paused at ${weight} %: promote or abort`;
  core.notice(
    `the canary of release ${ctx.release.number} holds ${weight} % of the traffic and waits for a review: run mode promote to take it to 100 % (measured again), or mode abort to send all traffic back to release ${ctx.previous?.number ?? '?'}; the next deploy also takes it back`,
  );
}

/**
 * A canary a cancelled or lost run left behind, or one paused for a review this deploy takes over from,
 * repaired before this deploy writes anything (any strategy); mode promote takes its paused one on instead.
 */
export async function repairLeftCanary(
  ctx: DeployRun,
  releases: ReleaseInfo[],
  found?: Promise<LeftCanary>,
): Promise<void> {
  const { cluster, plan } = ctx;
  if (ctx.resume) return;
  const done = await repairCanary(cluster, plan.namespace, plan.render.instance, ctx.previous, found);
  await abandonPaused(
    cluster,
    plan.namespace,
    releases,
    `was taken back by the deploy of ${ctx.run.sha.slice(0, 7)}`,
  );
  if (done.length > 0)
    core.warning(
      `a canary left by an earlier run (cancelled, lost, or paused for a review) was taken back first: ${done.join(', ')}`,
    );
}
