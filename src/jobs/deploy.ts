import * as core from '@actions/core';
import type { Credentials } from '../credentials.js';
import { addTags, registryDigest } from '../docker/buildx.js';
import { Docker } from '../docker/docker.js';
import { buildAndPushRetrying } from '../docker/push-retry.js';
import { imagePlatforms } from '../docker/registry-manifest.js';
import {
  type AppliedObject,
  applySet,
  instanceLabel,
  managedByLabel,
  type PrunedObject,
  prune,
} from '../kube/apply.js';
import { type Cluster, errorText, isNotFound } from '../kube/client.js';
import { type Diagnosis, diagnose, diagnosisLines } from '../kube/diagnose.js';
import { lockEnvironment } from '../kube/lock.js';
import { loadManifests, type Manifest } from '../kube/manifests.js';
import { preflight } from '../kube/preflight/preflight.js';
import { deployerRole, type PreviewAccess, preparePreviewNamespace } from '../kube/preview-access.js';
import { checkPreviewManifests, previewNamespaceObject, previewPolicy } from '../kube/preview-guard.js';
import {
  ingressAddress,
  type ServiceEndpoints,
  serviceEndpoints,
  waitForIngressAddress,
} from '../kube/reach.js';
import { managedBy, render } from '../kube/render.js';
import { rollbackTo } from '../kube/rollback.js';
import { smokeCheckServices } from '../kube/smoke.js';
import { RolloutFailure, trackRollout } from '../kube/track.js';
import { validate } from '../kube/validate.js';
import { type DeployPlan, planDeploy, type RunInfo } from '../plan.js';
import type { Settings } from '../settings.js';
import { Timings } from '../util/timings.js';

// Push and preview deploys: validate the manifests, build and push, apply, track; on a failed rollout,
// diagnose and restore the previous revision, then fail with one sentence.

export interface DeployResult {
  environment: string;
  namespace: string;
  image: string;
  digest: string;
  revision: number;
  url: string;
  applied: AppliedObject[];
  pruned: PrunedObject[];
  endpoints: ServiceEndpoints[];
  /** the Ingress's load balancer address, '' while it has none */
  ingressAddress: string;
  timings: Timings['steps'];
  /** set when the rollout failed: what the pods showed */
  diagnosis?: Diagnosis;
  error?: string;
}

/** A deploy that got as far as the cluster and failed there; carries what it did, for the report. */
export class DeployFailure extends Error {
  constructor(
    message: string,
    readonly result: DeployResult,
  ) {
    super(message);
    this.name = 'DeployFailure';
  }
}

const fieldManager = managedBy;
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

  // a bad manifest fails before a build is spent on it
  const manifests = await timings.step('validate manifests', () => {
    const loaded = loadManifests(settings.manifests);
    const probe = render(loaded, { ...plan.render, image: `${plan.repository}@${placeholderDigest}` });
    validate(probe);
    // a pull request's manifests are its author's: only what a preview may hold, checked before the build
    if (pr !== undefined) checkPreviewManifests(probe, pr);
    if (pr !== undefined && !settings.previewDomain && loaded.some((m) => m.object.kind === 'Ingress'))
      throw new Error(
        `input 'preview-domain' is required for previews: the manifests have an Ingress, and pull request #${pr} needs a host of its own (pr-${pr}.<preview-domain>)`,
      );
    return loaded;
  });
  const cluster = await timings.step('cluster credentials', () => credentials.cluster());

  // the registry session lasts the whole deploy: preflight reads the pushed image's platforms, and the
  // moving tag is set at the end
  const docker = Docker.withPrivateConfig();
  try {
    return await deployWith(docker, settings, credentials, run, plan, manifests, cluster, timings, pr);
  } finally {
    docker.dispose();
  }
}

async function deployWith(
  docker: Docker,
  settings: Settings,
  credentials: Credentials,
  run: RunInfo,
  plan: DeployPlan,
  manifests: Manifest[],
  cluster: Cluster,
  timings: Timings,
  pr: number | undefined,
): Promise<DeployResult> {
  await timings.step(`registry login ${settings.registry.host}`, () => credentials.registryLogin(docker));
  const digest = await timings.step('build and push', () =>
    buildOrReuse(docker, plan, settings.image.rebuild),
  );
  const image = `${plan.repository}@${digest}`;
  core.info(`pushed ${image}`);

  let objects = render(manifests, { ...plan.render, image });
  validate(objects);
  let access: PreviewAccess | undefined;
  if (pr !== undefined) {
    const base = {
      namespace: plan.namespace,
      pr,
      labels: {
        [managedByLabel]: managedBy,
        'app.kubernetes.io/name': plan.render.appName,
        [instanceLabel]: plan.render.instance,
        ...plan.render.labels,
      },
      ingressNamespace: settings.ingressNamespace,
    };
    objects = [previewPolicy(base), ...objects];
    // the preview identity reads and writes only in namespaces it made and bound itself in: first of all
    access = await timings.step('preview namespace', () =>
      preparePreviewNamespace(cluster, previewNamespaceObject(base), {
        appName: settings.appName,
        fieldManager,
      }),
    );
    if (access.boundAs)
      core.info(
        `${access.boundAs} bound to ClusterRole ${deployerRole(settings.appName)} in ${plan.namespace}`,
      );
  }
  const result: DeployResult = {
    environment: plan.environment,
    namespace: plan.namespace,
    image,
    digest,
    revision: 0,
    url: urlOf(objects),
    applied: [],
    pruned: [],
    endpoints: [],
    ingressAddress: '',
    timings: timings.steps,
  };
  const stage = { applying: false };
  try {
    return await applyAndTrack(docker, settings, run, plan, objects, cluster, timings, result, {
      podSecurityFails: pr !== undefined,
      ownsNamespace: access?.created === true,
      stage,
    });
  } catch (error) {
    // a preview namespace made for this deploy goes again when nothing reached it (applySet does the same
    // for a dry-run that fails)
    if (access?.created && !stage.applying)
      await cluster.request('DELETE', `/api/v1/namespaces/${plan.namespace}`).catch((e) => {
        if (!isNotFound(e)) core.warning(`could not delete namespace ${plan.namespace}: ${errorText(e)}`);
      });
    throw error;
  }
}

async function applyAndTrack(
  docker: Docker,
  settings: Settings,
  run: RunInfo,
  plan: DeployPlan,
  objects: Manifest[],
  cluster: Cluster,
  timings: Timings,
  result: DeployResult,
  options: { podSecurityFails: boolean; ownsNamespace: boolean; stage: { applying: boolean } },
): Promise<DeployResult> {
  const image = result.image;
  // what the cluster will make of the set, before anything is applied; an unchanged set ends the deploy here
  const checked = await timings.step('preflight', () =>
    preflight(
      cluster,
      objects.map((m) => m.object),
      {
        namespace: plan.namespace,
        instance: plan.render.instance,
        fieldManager,
        image,
        imagePlatforms: () => imagePlatforms(docker, image),
        mode: settings.preflight,
        aks: settings.cluster.kind === 'aks' ? settings.cluster : undefined,
        log: core,
      },
    ),
  );
  if (checked.unchanged) {
    result.applied = checked.unchanged.objects;
    result.revision = checked.unchanged.revision;
    await moveTags(docker, plan, image, timings);
    return result;
  }

  // one deploy at a time per environment, and never an older commit's over a newer one's (kube/lock.ts)
  await using _lock = await lockEnvironment(cluster, {
    namespace: plan.namespace,
    instance: plan.render.instance,
    sha: run.sha,
    rolloutTimeoutMs: settings.rolloutTimeoutMs,
  });
  options.stage.applying = true;
  const applied = await timings.step('apply', () =>
    applySet(
      cluster,
      objects.map((m) => m.object),
      {
        fieldManager,
        force: settings.forceConflicts,
        namespace: plan.namespace,
        podSecurityFails: options.podSecurityFails,
        ownsNamespace: options.ownsNamespace,
      },
    ),
  );
  result.applied = applied.objects;
  for (const o of applied.objects) core.info(`${o.kind}/${o.name} ${o.action}`);
  result.pruned = await timings.step('prune', async () => {
    const pruned = await prune(
      cluster,
      plan.namespace,
      plan.render.instance,
      objects.map((m) => m.object),
    );
    for (const p of pruned) core.info(`${p.kind}/${p.name} pruned (no longer in ${settings.manifests})`);
    return pruned;
  });

  const deployments = objects.filter((m) => m.object.kind === 'Deployment');
  for (const m of deployments) {
    const name = m.object.metadata?.name ?? '';
    await timings.step(`rollout of Deployment/${name}`, () => rollout(settings, cluster, plan, name, result));
  }
  await timings.step('endpoints', () => reportReach(settings, cluster, objects, result));
  if (settings.smokeCheck)
    await timings
      .step('smoke check', () =>
        smokeCheckServices(
          cluster,
          plan.namespace,
          objects.map((m) => m.object),
          run.sha,
          { log: (line) => core.info(line) },
        ),
      )
      .catch((error) => {
        throw new DeployFailure(errorText(error), result);
      });
  await moveTags(docker, plan, image, timings);
  return result;
}

/** latest / pr-N point at the image only once it is proven: rolled out and smoke-checked. */
async function moveTags(docker: Docker, plan: DeployPlan, image: string, timings: Timings): Promise<void> {
  if (plan.movingTags.length === 0) return;
  const tags = plan.movingTags.join(', ');
  try {
    await timings.step('move tags', () => addTags(docker, image, plan.movingTags));
    core.info(`${tags} -> ${image}`);
  } catch (error) {
    // the release is live and proven; only the convenience tag lags behind
    core.warning(`the deploy succeeded, but ${tags} could not be moved to ${image}: ${errorText(error)}`);
  }
}

/** Ready endpoints of each Service and the Ingress address: that the rollout is reachable, not only done. */
async function reportReach(settings: Settings, cluster: Cluster, objects: Manifest[], result: DeployResult) {
  for (const m of objects) {
    const name = m.object.metadata?.name ?? '';
    if (m.object.kind === 'Service') {
      const e = await serviceEndpoints(cluster, result.namespace, name);
      result.endpoints.push(e);
      const line = `Service/${name}: ${e.ready} ready endpoint${e.ready === 1 ? '' : 's'}${e.notReady ? `, ${e.notReady} not ready` : ''}`;
      if (e.ready === 0) core.warning(`${line}: nothing serves behind it`);
      else core.info(line);
    } else if (m.object.kind === 'Ingress') {
      const address = settings.waitForIngress
        ? await waitForIngressAddress(cluster, result.namespace, name, settings.rolloutTimeoutMs)
        : await ingressAddress(cluster, result.namespace, name);
      result.ingressAddress = address;
      core.info(
        `Ingress/${name}: ${address ? `address ${address}` : 'no address yet (its controller assigns one)'}`,
      );
    }
  }
}

/** The commit's image when the registry has it (a rerun deploys the same digest), else a fresh build. */
async function buildOrReuse(docker: Docker, plan: DeployPlan, rebuild: boolean): Promise<string> {
  const [commitTag] = plan.build.tags;
  if (!rebuild && commitTag) {
    const existing = await registryDigest(docker, commitTag);
    if (existing) {
      core.info(
        `${commitTag} is already in the registry (${existing}): deploying it as is (input 'rebuild' builds anew)`,
      );
      return existing;
    }
  }
  return buildAndPushRetrying(docker, plan.build);
}

async function rollout(
  settings: Settings,
  cluster: Cluster,
  plan: DeployPlan,
  name: string,
  result: DeployResult,
): Promise<void> {
  try {
    const done = await trackRollout(cluster, plan.namespace, name, {
      ...settings.failureGrace,
      timeoutMs: settings.rolloutTimeoutMs,
      onProgress: (line) => core.info(line),
    });
    result.revision = done.revision;
    core.info(
      `Deployment/${name} revision ${done.revision} rolled out in ${(done.elapsedMs / 1000).toFixed(1)} s${done.reconnects ? ` (the watch was resumed ${done.reconnects} times)` : ''}`,
    );
    return;
  } catch (error) {
    if (!(error instanceof RolloutFailure)) throw error;
    result.diagnosis = await diagnose(cluster, plan.namespace, name).catch((e) => {
      core.warning(`could not diagnose Deployment/${name}: ${errorText(e)}`);
      return undefined;
    });
    for (const line of result.diagnosis ? diagnosisLines(result.diagnosis) : []) core.info(line);
    const what = `the rollout of Deployment/${name} revision ${error.detail.revision} failed: ${result.diagnosis?.summary ?? error.message}`;
    if (!settings.rollbackOnFailure)
      throw new DeployFailure(
        `${what} Automatic rollback is off (input 'rollback-on-failure'); the rollout was left as it is.`,
        result,
      );
    let restored: number;
    try {
      const back = await rollbackTo(cluster, plan.namespace, name);
      core.info(`rolling back Deployment/${name} to revision ${back.to} (${back.images.join(', ')})`);
      const done = await trackRollout(cluster, plan.namespace, name, {
        timeoutMs: settings.rolloutTimeoutMs,
        onProgress: (line) => core.info(line),
      });
      restored = back.to;
      result.revision = done.revision;
    } catch (rollbackError) {
      throw new DeployFailure(`${what} Rollback: ${errorText(rollbackError)}`, result);
    }
    throw new DeployFailure(`${what} Rolled back: revision ${restored}'s pods are serving again.`, result);
  }
}

function urlOf(objects: Manifest[]): string {
  const ingress = objects.find((m) => m.object.kind === 'Ingress')?.object as
    | { spec?: { rules?: { host?: string }[]; tls?: { hosts?: string[] }[] } }
    | undefined;
  const host = ingress?.spec?.rules?.find((r) => r.host)?.host;
  if (!host) return '';
  const tls = ingress?.spec?.tls?.some((t) => t.hosts?.includes(host));
  return `${tls ? 'https' : 'http'}://${host}/`;
}
