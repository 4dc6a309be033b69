import * as core from '@actions/core';
import { markRelease, type ReleaseInfo } from '../../kube/release/release.js';
import { restoredWorkloads, restoreRelease, trackRestored } from '../../kube/release/restore.js';
import { rollbackTo } from '../../kube/release/revision-rollback.js';
import type { PreDeployFailure } from '../../kube/rollout/pre-deploy.js';
import { trackerText, trackingOptions, trackSet } from '../../kube/rollout/track-set.js';
import { errorText } from '../../util/errors.js';
import { DeployFailure } from './result.js';
import type { DeployRun } from './run.js';

// A deploy that fails after its first write: the previous release comes back whole (kube/release/restore.ts,
// as a manual rollback does it), or, without one, the failed Deployment's previous revision; a failed
// pre-deploy Job stops before the rest was written. Each ends in a DeployFailure saying what serves now.

/** A pre-deploy Job failed: the rest of the set was never written, so what served before still does. */
export async function stopBeforeRest(error: PreDeployFailure, ctx: DeployRun): Promise<DeployFailure> {
  await markFailed(ctx, error.message);
  const serving = ctx.previous
    ? `release ${ctx.previous.number} (${ctx.previous.sha.slice(0, 7)}) is still serving`
    : 'what was live before is unchanged';
  return new DeployFailure(
    `${error.message}\nNothing else of release ${ctx.release?.number} was applied: ${serving}. Job/${error.job} is left as it failed, for its logs; the next deploy replaces it.`,
    ctx.result,
  );
}

/** Marks this release failed and restores the previous one entirely; the error says what serves now. */
export async function restorePrevious(
  what: string,
  ctx: DeployRun,
  cancelled = false,
): Promise<DeployFailure> {
  const { cluster, plan, settings, result, previous } = ctx;
  await markFailed(ctx, what);
  if (!settings.rollbackOnFailure)
    return new DeployFailure(
      `${what} Automatic rollback is off (input 'rollback-on-failure'); release ${ctx.release?.number} was left as it is.`,
      result,
    );
  if (!previous) return undoFailedDeployment(what, ctx);
  try {
    const deployments = restoredWorkloads(previous)
      .filter((w) => w.kind === 'Deployment')
      .map((d) => d.metadata?.name ?? '');
    const applied = await ctx.timings.step(`restore release ${previous.number}`, async () => {
      // what the failed release added goes; what it dropped was never pruned
      const applied = await restoreRelease(cluster, plan.namespace, plan.render.instance, previous, (line) =>
        core.info(line),
      );
      // a cancelled run has seconds before the runner kills it: the cluster finishes the rollout alone
      if (cancelled) return applied;
      await trackRestored(cluster, plan.namespace, previous, {
        ...trackingOptions(settings, plan),
        diagnose: false,
        onDone: (done) => {
          if (done.kind === 'Deployment' && (done.name === ctx.failedDeployment || deployments.length === 1))
            result.revision = done.revision ?? result.revision;
        },
      });
      return applied;
    });
    core.info(
      `release ${previous.number} restored: ${applied.objects.filter((o) => o.action !== 'unchanged').length} objects changed back`,
    );
    const sentence = cancelled
      ? `Rolled back to release ${previous.number} (${previous.sha.slice(0, 7)}): its set is applied again and the cluster rolls it out (not waited for: the run was cancelled).`
      : restoredSentence(previous, deployments, ctx.serving);
    return new DeployFailure(`${what} ${sentence}`, result);
  } catch (error) {
    return new DeployFailure(
      `${what} Restoring release ${previous.number} (${previous.sha.slice(0, 7)}) failed: ${trackerText(error)}`,
      result,
    );
  }
}

/** What serves again after a restore, by Deployment and the revision it served before this deploy. */
export function restoredSentence(
  previous: ReleaseInfo,
  deployments: string[],
  serving: Map<string, number>,
): string {
  const head = `Rolled back to release ${previous.number} (${previous.sha.slice(0, 7)})`;
  const revision = (name: string) => serving.get(name);
  if (deployments.length === 1) {
    const r = revision(deployments[0] ?? '');
    return `${head}: ${r ? `revision ${r}'s` : 'its'} pods are serving again.`;
  }
  if (deployments.length === 0) return `${head}: its objects are restored.`;
  const list = deployments.map((d) => `Deployment/${d}${revision(d) ? ` revision ${revision(d)}` : ''}`);
  return `${head}: ${list.slice(0, -1).join(', ')} and ${list.at(-1)} are serving again.`;
}

/**
 * No release to restore (the first release, or a namespace deployed before releases were recorded): the
 * failed Deployment's previous revision, the way `kubectl rollout undo` does it.
 */
export async function undoFailedDeployment(what: string, ctx: DeployRun): Promise<DeployFailure> {
  const { cluster, plan, settings, result } = ctx;
  const name = ctx.failedDeployment;
  if (!name)
    return new DeployFailure(
      `${what} No earlier release of ${plan.render.instance} is recorded in namespace '${plan.namespace}' to restore; release ${ctx.release?.number} was left as it is.`,
      result,
    );
  try {
    const back = await rollbackTo(cluster, plan.namespace, name);
    core.info(`rolling back Deployment/${name} to revision ${back.to} (${back.images.join(', ')})`);
    const [done] = await trackSet(cluster, plan.namespace, [{ kind: 'Deployment', metadata: { name } }], {
      ...trackingOptions(settings, plan),
      diagnose: false,
    });
    result.revision = done?.revision ?? result.revision;
    return new DeployFailure(`${what} Rolled back: revision ${back.to}'s pods are serving again.`, result);
  } catch (error) {
    return new DeployFailure(`${what} Rollback: ${trackerText(error)}`, result);
  }
}

/** This deploy's release is marked failed, with why (a failure to say so is only warned about). */
async function markFailed(ctx: DeployRun, why: string): Promise<void> {
  const release = ctx.release;
  if (!release) return;
  await markRelease(ctx.cluster, ctx.plan.namespace, release, 'failed', why.slice(0, 1000)).catch(
    (e: unknown) => core.warning(`could not mark release ${release.number} failed: ${errorText(e)}`),
  );
}
