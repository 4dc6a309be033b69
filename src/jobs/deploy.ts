import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Credentials } from '../credentials.js';
import { buildOrReuse, lookUpCommitImage } from '../docker/build-or-reuse.js';
import { checkBuildFiles } from '../docker/buildx.js';
import { Docker } from '../docker/docker.js';
import { deletePrunable, findPrunable, type Prunable } from '../kube/apply/prune.js';
import { deleteNamespace } from '../kube/client/namespace.js';
import type { Manifest } from '../kube/manifests/load.js';
import { render } from '../kube/manifests/render.js';
import { validate } from '../kube/manifests/validate.js';
import { preflight } from '../kube/preflight/preflight.js';
import { checkPreviewHost, checkPreviewManifests } from '../kube/preview/guard.js';
import { reportReach, urlOfSet } from '../kube/reach/reach.js';
import { smokeRelease } from '../kube/reach/smoke-release.js';
import { markRelease, recordIfNone } from '../kube/release/release.js';
import { PreDeployFailure } from '../kube/rollout/pre-deploy.js';
import { TrackFailure, trackingOptions, trackSet, workloadsOf } from '../kube/rollout/track-set.js';
import { managedBy } from '../names.js';
import { type DeployPlan, planDeploy, type RunInfo } from '../plan.js';
import { imagePlatforms, reusableImage, revisionLabel } from '../registry/images.js';
import { moveTags } from '../registry/tags.js';
import { readManifests } from '../render/render.js';
import type { Settings } from '../settings.js';
import { Cancelled, catchCancellation } from '../util/cancel.js';
import { errorText } from '../util/errors.js';
import { Timings } from '../util/timings.js';
import { applyRelease, type Preflighted } from './deploy/apply.js';
import { canaryFirst, checkCanarySet, repairLeftCanary } from './deploy/canary.js';
import { restorePrevious, stopBeforeRest } from './deploy/failure.js';
import { checkIsolation, checkSignIn } from './deploy/isolation.js';
import { lockForDeploy, readAhead } from './deploy/lock.js';
import { openPreview } from './deploy/preview-namespace.js';
import { prunableOf } from './deploy/prunable.js';
import { type DeployResult, startResult } from './deploy/result.js';
import type { DeployRun } from './deploy/run.js';

// Push and preview deploys: validate the manifests, build and push, preflight, record the release, apply,
// track, smoke-check, and only then prune. Any failure after the first write restores the previous release
// entirely (jobs/deploy/failure.ts) and fails with one sentence. The run's state is one DeployRun.

export { DeployFailure, type DeployResult } from './deploy/result.js';

/**
 * Turns the preview checks of kube/preview/guard.ts off, as a pull request that rewrites the action would: the
 * tests use it to prove that the cluster's admission policies (rbac/preview.yaml) still refuse the same.
 */
export const unguardedPreviewVariable = 'ARCHETYPE_DEPLOY_UNGUARDED_PREVIEW';
const placeholderDigest = `sha256:${'0'.repeat(64)}`;

export async function deploy(
  settings: Settings,
  credentials: Credentials,
  run: RunInfo,
  pr?: number,
): Promise<DeployResult> {
  const plan = planDeploy(settings, run, pr);
  const timings = new Timings();
  core.info(`deploying ${run.sha.slice(0, 7)} to ${plan.environment} (namespace ${plan.namespace})`);
  const { loaded: manifests, probe } = await timings.step('validate manifests', () =>
    checkManifests(settings, plan, pr),
  );
  // docker's own config for this run: its sign-in to the registry (to push) goes when the run ends
  const docker = Docker.withPrivateConfig();
  try {
    // the registry is asked for the commit's image while the run signs in to the cluster and checks it
    const registry = credentials.registry();
    registry.catch(() => undefined);
    const lookUp = lookUpCommitImage(plan, settings.image.rebuild, async (tag) =>
      reusableImage(await registry, tag, plan.build.labels[revisionLabel] ?? ''),
    );
    const cluster = await timings.step('cluster credentials', () => credentials.cluster());
    await checkSignIn(settings, credentials, pr);
    // a preview only where its isolation is enforced: said before anything is built or made
    if (pr !== undefined) await checkIsolation(settings, credentials);
    // production's namespace is there before the build: the lock's reads go while the registry is asked
    const ahead = pr === undefined ? readAhead(cluster, plan, probe) : undefined;
    await timings.step(`registry credentials ${settings.registry.host}`, () => registry);
    const { digest, reused } = await timings.step('build and push', () =>
      buildOrReuse(docker, plan, {
        lookUp,
        login: () => credentials.registryLogin(docker),
        azureClientId: settings.azure.clientId,
      }),
    );
    if (!reused) ahead?.drop(); // a build took long enough for the reads ahead to be stale: read again
    const image = `${plan.repository}@${digest}`;
    const objects = render(manifests, { ...plan.render, image });
    validate(objects);
    const result = startResult(plan, image, urlOfSet(objects.map((m) => m.object)), timings);
    const ctx: DeployRun = {
      settings,
      run,
      plan,
      cluster,
      registry: await registry,
      timings,
      image,
      result,
      serving: new Map(),
      ...(pr === undefined ? {} : { pr }),
      ...(ahead && reused ? { ahead } : {}),
    };
    return await intoEnvironment(ctx, objects);
  } finally {
    docker.dispose();
  }
}

/** The manifests, rendered and checked with a placeholder image: nothing is built for a set that fails. */
async function checkManifests(
  settings: Settings,
  plan: DeployPlan,
  pr?: number,
): Promise<{ loaded: Manifest[]; probe: KubernetesObject[] }> {
  const loaded = await readManifests(settings, plan.namespace);
  checkBuildFiles(plan.build);
  const probe = render(loaded, { ...plan.render, image: `${plan.repository}@${placeholderDigest}` });
  validate(probe);
  // a pull request's manifests are its author's: only what a preview may hold, checked before the build
  if (pr !== undefined && process.env[unguardedPreviewVariable] !== '1')
    checkPreviewManifests(probe, pr, plan.render);
  if (pr !== undefined) checkPreviewHost(loaded, pr, settings.previewDomain);
  checkCanarySet(settings, probe, pr);
  return { loaded, probe: probe.map((m) => m.object) };
}

/** A preview's namespace is made first, for it alone; one made for a deploy that wrote nothing goes again. */
async function intoEnvironment(ctx: DeployRun, rendered: Manifest[]): Promise<DeployResult> {
  const { objects, access } =
    ctx.pr === undefined ? { objects: rendered } : await openPreview(ctx, ctx.pr, rendered);
  try {
    return await applyAndTrack(ctx, objects, {
      podSecurityFails: ctx.pr !== undefined,
      ownsNamespace: access?.created === true,
    });
  } catch (error) {
    // a preview namespace made for this deploy goes again when nothing reached it (as after a failed dry-run)
    if (access?.created && !ctx.applying)
      await deleteNamespace(ctx.cluster, ctx.plan.namespace).catch((e: unknown) =>
        core.warning(`could not delete namespace ${ctx.plan.namespace}: ${errorText(e)}`),
      );
    throw error;
  }
}

/** Under the environment's lock: preflight, then the release written and proven, or nothing if unchanged. */
export async function applyAndTrack(
  ctx: DeployRun,
  manifests: Manifest[],
  options: { podSecurityFails: boolean; ownsNamespace: boolean },
): Promise<DeployResult> {
  const { settings, cluster, plan, timings, result } = ctx;
  // what the cluster will make of the set, before anything is applied; an unchanged set ends the deploy
  // here. Its reads, the release history and what a canary may have left go out while the lock is taken
  // (jobs/deploy/lock.ts).
  const autoscaled = await lockForDeploy(ctx, manifests, (scaled, { state }) =>
    timings.step('preflight', () =>
      // an autoscaled workload is checked at the autoscaler's live scale
      preflight(
        cluster,
        scaled.objects.map((m) => scaled.live.get(`${m.object.kind}/${m.object.metadata?.name}`) ?? m.object),
        {
          namespace: plan.namespace,
          instance: plan.render.instance,
          fieldManager: managedBy,
          image: ctx.image,
          imagePlatforms: () => imagePlatforms(ctx.registry, ctx.image),
          mode: settings.preflight,
          aks: settings.cluster.kind === 'aks' ? settings.cluster : undefined,
          // the lock finds or makes it
          namespaceExists: true,
          state,
          log: core,
        },
      ),
    ),
  );
  await using _lock = autoscaled.lock;
  const set = autoscaled.objects.map((m) => m.object);
  const { checked } = autoscaled;
  const { history, leftCanary } = autoscaled.reads;
  const { all: releases, previous } = await history;
  if (checked.unchanged) {
    result.applied = checked.unchanged.objects;
    result.revision = checked.unchanged.revision;
    const live = { sha: ctx.run.sha, image: ctx.image, objects: set };
    const recorded = await recordIfNone(cluster, plan.namespace, plan.render.instance, live, releases);
    if (recorded)
      core.info(`release ${recorded.number} recorded for the live set (Secret ${recorded.secret})`);
    (await moveTags(ctx.registry, ctx.image, plan.movingTags, timings))();
    return result;
  }
  ctx.previous = previous;
  await repairLeftCanary(ctx, releases, leftCanary);
  const before = { checked, releases, autoscaled: autoscaled.workloads };
  const { prunable } = await release(ctx, autoscaled.objects, before, options);
  if (result.paused === undefined) await settle(ctx, set, prunable); // else mode promote settles it
  return result;
}

/**
 * Applies, tracks, and proves the release reachable (endpoints, smoke check). Any failure after the first
 * write restores the previous release; a cancelled run (the runner's SIGINT) ends the wait at once and
 * restores too. Returns what prune will delete, read meanwhile.
 */
async function release(
  ctx: DeployRun,
  manifests: Manifest[],
  before: Preflighted,
  options: { podSecurityFails: boolean; ownsNamespace: boolean },
): Promise<{ prunable?: Promise<Prunable[]> }> {
  const { settings, cluster, plan, timings, result } = ctx;
  const set = manifests.map((m) => m.object);
  ctx.applying = true;
  let prunable: Promise<Prunable[]> | undefined;
  const cancel = catchCancellation();
  try {
    const work = async () => {
      if (await canaryFirst(ctx, manifests, before, cancel.signal)) return;
      await applyRelease(ctx, manifests, before, { ...options, signal: cancel.signal });
      await rollout(ctx, set, cancel.signal);
      // read meanwhile (not during the rollout: its controllers need the API server); deleted once proven
      prunable = prunableOf(ctx, set, before.releases);
      prunable.catch(() => undefined);
      const waitForIngressMs = settings.waitForIngress ? settings.rolloutTimeoutMs : undefined;
      const reach = await timings.step('endpoints', () =>
        reportReach(cluster, plan.namespace, set, { waitForIngressMs, log: core }),
      );
      Object.assign(result, reach);
      // per Service: its annotation may turn the check on or off whatever the input says
      await timings.step('smoke check', () =>
        smokeRelease(cluster, plan.namespace, set, ctx.run.sha, ctx.image, {
          enabled: settings.smokeCheck,
          frontDoor: settings.smokeFrontDoor,
          path: settings.smokePath,
          log: (line) => core.info(line),
        }),
      );
    };
    const working = work();
    // once cancelled, what the abandoned work does next (it writes nothing more: the signal) is moot
    working.catch(() => undefined);
    await Promise.race([working, cancel.promise]);
  } catch (error) {
    if (!ctx.release) throw error;
    if (error instanceof PreDeployFailure) throw await stopBeforeRest(error, ctx);
    throw await restorePrevious(errorText(error), ctx, error instanceof Cancelled);
  } finally {
    cancel.dispose();
  }
  return prunable ? { prunable } : {};
}

/** Every workload of the set at once; the first failure stops the others (and a cancel, all). */
async function rollout(ctx: DeployRun, set: KubernetesObject[], signal: AbortSignal): Promise<void> {
  const { plan, timings, result } = ctx;
  const primary = set.find((o) => o.kind === 'Deployment')?.metadata?.name;
  await timings.step('rollout', () =>
    trackSet(ctx.cluster, plan.namespace, workloadsOf(set), {
      ...trackingOptions(ctx.settings, plan),
      together: true,
      signal,
      time: (name, work) => timings.time(name, work),
      onDone: (done) => {
        // the release's revision is its first Deployment's
        if (done.kind === 'Deployment' && done.name === primary) result.revision = done.revision ?? 0;
      },
    }).catch((error: unknown) => {
      if (error instanceof TrackFailure && error.kind === 'Deployment') {
        ctx.failedDeployment = error.workload;
        result.diagnosis = error.diagnosis;
      }
      throw error;
    }),
  );
}

/** Proven: this release is the one to restore from now on, and what it dropped goes while the tags move. */
async function settle(ctx: DeployRun, set: KubernetesObject[], prunable?: Promise<Prunable[]>) {
  const { settings, cluster, plan, timings, result } = ctx;
  // the registry's tags move while the cluster records and prunes, under the lock still; reported last
  const tagging = moveTags(ctx.registry, ctx.image, plan.movingTags, timings);
  try {
    if (ctx.release)
      await Promise.all([
        markRelease(cluster, plan.namespace, ctx.release, 'deployed', result.canary?.join('; ')),
        ctx.previous && markRelease(cluster, plan.namespace, ctx.previous, 'superseded'),
      ]);
    result.pruned = await timings.step('prune', async () => {
      const found = await (prunable ?? findPrunable(cluster, plan.namespace, plan.render.instance, set));
      const pruned = await deletePrunable(cluster, plan.namespace, found);
      for (const p of pruned) core.info(`${p.kind}/${p.name} pruned (no longer in ${settings.manifests})`);
      return pruned;
    });
  } finally {
    (await tagging)();
  }
}
