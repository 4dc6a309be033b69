import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type ApplyResult, applySet, type TakenOver } from '../../kube/apply/apply.js';
import type { Manifest } from '../../kube/manifests/load.js';
import type { PreflightResult } from '../../kube/preflight/preflight.js';
import { type ReleaseInfo, recordRelease } from '../../kube/release/release.js';
import { handOverReplicas } from '../../kube/rollout/autoscale.js';
import { servingRevisions } from '../../kube/rollout/deployment.js';
import { isPreDeploy, runPreDeployJobs } from '../../kube/rollout/pre-deploy.js';
import { trackingOptions } from '../../kube/rollout/track-set.js';
import { managedBy } from '../../names.js';
import type { DeployRun } from './run.js';

// The deploy's write: the set, tier by tier, its pre-deploy objects and their Jobs first. Right before the
// first write (the whole set passed the dry-run) the release is recorded: from there on a failure restores.

/** What preflight found, under the lock the apply still holds. */
export interface Preflighted {
  /** preflight's result: its dry-runs are reused, its live reads give the serving revisions */
  checked: PreflightResult;
  /** the instance's releases: the new one is numbered after them */
  releases: ReleaseInfo[];
  /** "Kind/name" of each workload an autoscaler scales: its replicas are handed over first */
  autoscaled: string[];
}

/** Applies the set; `checked` is preflight's, whose dry-runs the apply reuses (taken under the same lock). */
export async function applyRelease(
  ctx: DeployRun,
  objects: Manifest[],
  before: Preflighted,
  options: { podSecurityFails: boolean; ownsNamespace: boolean; signal: AbortSignal },
): Promise<ApplyResult> {
  const { settings, cluster, plan, timings } = ctx;
  const set = objects.map((m) => m.object);
  const applied = await timings.step('apply', () =>
    applySet(cluster, set, {
      fieldManager: managedBy,
      force: settings.forceConflicts,
      namespace: plan.namespace,
      podSecurityFails: options.podSecurityFails,
      ownsNamespace: options.ownsNamespace,
      namespaceExists: true,
      dryRuns: before.checked.dryRuns,
      sourceOf: sourcesOf(objects),
      signal: options.signal,
      ...(set.some(isPreDeploy)
        ? {
            firstStage: {
              select: isPreDeploy,
              run: () =>
                timings.time('pre-deploy Jobs', () =>
                  // its Jobs are followed as the rollout follows them, and fail with their logs
                  runPreDeployJobs(cluster, plan.namespace, set, {
                    ...trackingOptions(settings, plan),
                    onProgress: (line) => core.info(line),
                    log: (line) => core.info(line),
                    signal: options.signal,
                  }),
                ),
            },
          }
        : {}),
      // the whole set passed the dry-run: from here on, a failure restores the previous release
      beforeWrite: () => recordBeforeWrite(ctx, set, before),
    }),
  );
  ctx.result.applied = applied.objects;
  for (const o of applied.objects) core.info(`${o.kind}/${o.name} ${o.action}`);
  reportTakenOver(applied.takenOver);
  return applied;
}

/**
 * Autoscaled replicas handed over, the serving revisions read, and this deploy's release recorded; once (a
 * canary records it before its first write).
 */
export async function recordBeforeWrite(
  ctx: DeployRun,
  set: KubernetesObject[],
  before: Preflighted,
): Promise<void> {
  const { cluster, plan } = ctx;
  if (ctx.release) return;
  for (const h of await handOverReplicas(cluster, plan.namespace, before.autoscaled, managedBy))
    core.info(`${h.workload}: spec.replicas (${h.replicas}) handed over to its autoscaler`);
  ctx.serving = await servingRevisions(
    cluster,
    plan.namespace,
    [...set, ...(ctx.previous?.objects ?? [])],
    before.checked.live,
  );
  // mode promote takes on the release its canary paused in
  if (ctx.resume) {
    ctx.release = ctx.resume;
    ctx.result.release = ctx.release.number;
    return;
  }
  ctx.release = await recordRelease(
    cluster,
    plan.namespace,
    plan.render.instance,
    { sha: ctx.run.sha, image: ctx.image, objects: set },
    before.releases,
  );
  ctx.result.release = ctx.release.number;
  core.info(`release ${ctx.release.number} recorded (Secret ${ctx.release.secret})`);
}

/** One line for what was taken over from kubectl; a notice where the manifests undo a hand `kubectl scale`. */
function reportTakenOver(taken: TakenOver[]): void {
  if (taken.length === 0) return;
  core.info(
    `taken over from kubectl (objects made or changed by hand): ${taken.map((t) => `${t.kind}/${t.name} ${t.field} (${t.manager}${t.removed ? ', removed' : ''})`).join(', ')}`,
  );
  for (const t of taken.filter((t) => t.field === '.spec.replicas'))
    core.notice(
      `${t.kind}/${t.name}: spec.replicas is the manifests' again${t.was === undefined ? '' : ` (it was ${String(t.was)}`}${t.was === undefined ? '' : `, set by ${t.manager})`}: to scale it by load, add a HorizontalPodAutoscaler; to change it, change the manifests`,
    );
}

/** "file:line" of each object of the manifests, by kind and name, for the API server's errors. */
function sourcesOf(objects: Manifest[]): (kind: string, name: string) => string | undefined {
  const sources = new Map(
    objects
      .filter((m) => m.file && m.line > 0)
      .map((m) => [`${m.object.kind}/${m.object.metadata?.name}`, `${m.file}:${m.line}`]),
  );
  return (kind, name) => sources.get(`${kind}/${name}`);
}
