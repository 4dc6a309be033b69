import * as core from '@actions/core';
import { describeVerdict } from '../../kube/canary/analysis.js';
import { findCanaryTarget } from '../../kube/canary/plan.js';
import { repairCanary } from '../../kube/canary/repair.js';
import { CanaryAbort, type CanaryStep, runCanary } from '../../kube/canary/run.js';
import type { Manifest } from '../../kube/manifests/load.js';
import { trackingOptions, trackSet } from '../../kube/rollout/track-set.js';
import { managedBy } from '../../names.js';
import type { Settings } from '../../settings.js';
import { type Preflighted, recordBeforeWrite } from './apply.js';
import type { DeployRun } from './run.js';

// strategy canary, between preflight and the release's apply: the canary's steps (kube/canary/run.ts) on
// production, once a stable Deployment serves. The release is recorded first, so that an aborted step
// restores the previous release like any failure after a write; passed, the release's own apply promotes it
// (the stable Deployment takes the new template, the route its one backend) and prune removes the canary.

/** strategy canary on production: the set's shape (an HTTPRoute to the one Deployment), before the build. */
export function checkCanarySet(settings: Settings, rendered: Manifest[], pr: number | undefined): void {
  if (settings.strategy.kind === 'canary' && pr === undefined) findCanaryTarget(rendered);
}

export async function canaryFirst(
  ctx: DeployRun,
  manifests: Manifest[],
  before: Preflighted,
  signal: AbortSignal,
): Promise<void> {
  const { settings, plan, cluster } = ctx;
  if (settings.strategy.kind !== 'canary' || ctx.pr !== undefined) return;
  const canary = settings.strategy.canary;
  const target = findCanaryTarget(manifests);
  const name = target.deployment.metadata?.name ?? '';
  const live = before.checked.live.get(`Deployment/${name}`) as { spec?: { replicas?: number } } | undefined;
  if (!live || !ctx.previous) {
    core.notice(
      `strategy canary: Deployment/${name} has no deployed release to compare a canary with yet, so this first deploy rolls out`,
    );
    return;
  }
  await recordBeforeWrite(
    ctx,
    manifests.map((m) => m.object),
    before,
  );
  ctx.applying = true;
  core.info(
    `canary of Deployment/${name}: steps ${canary.steps.join(' → ')} %, each held ${canary.stepMs / 1000} s`,
  );
  const figures = (steps: CanaryStep[]) => steps.map((s) => describeVerdict(s.weight, s.verdict));
  const steps = await ctx.timings.step('canary', () =>
    runCanary(cluster, target, {
      namespace: plan.namespace,
      fieldManager: managedBy,
      canary,
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
  // the summary shows them, and the release record keeps them once it is marked deployed
  ctx.result.canary = figures(steps);
}

/** A canary a cancelled or lost run left behind, repaired before this deploy writes anything (any strategy). */
export async function repairLeftCanary(ctx: DeployRun): Promise<void> {
  const { cluster, plan } = ctx;
  const done = await repairCanary(cluster, plan.namespace, plan.render.instance, ctx.previous);
  if (done.length > 0)
    core.warning(
      `a canary left by an earlier run (cancelled or lost mid-canary) was repaired first: ${done.join(', ')}`,
    );
}
