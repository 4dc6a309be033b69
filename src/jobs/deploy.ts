import * as core from '@actions/core';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { Credentials } from '../credentials.js';
import { checkBuildFiles } from '../docker/buildx.js';
import { Docker } from '../docker/docker.js';
import { checkDocker } from '../docker/preconditions.js';
import { buildAndPushRetrying } from '../docker/push-retry.js';
import {
  type AppliedObject,
  applySet,
  deletePrunable,
  findPrunable,
  type Prunable,
  type PrunedObject,
  type TakenOver,
} from '../kube/apply/apply.js';
import { type Cluster, isNotFound, KubeApiError } from '../kube/client/client.js';
import { type Diagnosis, diagnose, diagnosisLines } from '../kube/diagnosis/diagnose.js';
import { loadManifests, type Manifest } from '../kube/manifests/load.js';
import { render } from '../kube/manifests/render.js';
import { validate } from '../kube/manifests/validate.js';
import { preflight } from '../kube/preflight/preflight.js';
import { type PreviewAccess, preparePreviewNamespace } from '../kube/preview/access.js';
import { checkPreviewManifests, previewGuards, previewNamespaceObject } from '../kube/preview/guard.js';
import {
  ingressAddress,
  type ServiceEndpoints,
  serviceEndpoints,
  urlOfIngress,
  waitForIngressAddress,
} from '../kube/reach/reach.js';
import { smokeCheckServices } from '../kube/reach/smoke.js';
import { lockEnvironment } from '../kube/release/lock.js';
import {
  lastDeployed,
  listReleases,
  markRelease,
  type Release,
  type ReleaseInfo,
  readRelease,
  recordRelease,
} from '../kube/release/release.js';
import { restoredWorkloads, restoreRelease } from '../kube/release/restore.js';
import { rollbackTo } from '../kube/release/revision-rollback.js';
import { autoscaledTargets, handOverReplicas, withoutReplicas } from '../kube/rollout/autoscale.js';
import { deploymentPath, revisionOf } from '../kube/rollout/deployment.js';
import { isPreDeploy, jobLogs, PreDeployFailure, runPreDeployJobs } from '../kube/rollout/pre-deploy.js';
import { RolloutFailure, trackRollout } from '../kube/rollout/track.js';
import { trackedKinds, trackWorkload } from '../kube/rollout/track-workload.js';
import { deployerRole, instanceLabel, managedBy, managedByLabel, nameLabel } from '../names.js';
import { type DeployPlan, planDeploy, type RunInfo } from '../plan.js';
import type { Registry } from '../registry/client.js';
import { addTags, imagePlatforms, reusableImage, revisionLabel } from '../registry/images.js';
import { thisRun } from '../runner.js';
import { aksNames, type Settings } from '../settings.js';
import { Cancelled, catchCancellation } from '../util/cancel.js';
import { errorText } from '../util/errors.js';
import { allOrFirstFailure } from '../util/parallel.js';
import { Timings } from '../util/timings.js';

// Push and preview deploys: validate the manifests, build and push, preflight, record the release, apply,
// track, smoke-check, and only then prune. Any failure after the first write restores the previous release
// entirely (kube/release/release.ts) and fails with one sentence.

export interface DeployResult {
  environment: string;
  namespace: string;
  image: string;
  digest: string;
  revision: number;
  /** the release this deploy recorded (kube/release/release.ts), once it wrote to the cluster */
  release?: number;
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

  // a bad manifest fails before a build is spent on it
  const manifests = await timings.step('validate manifests', () => {
    const loaded = loadManifests(settings.manifests);
    checkBuildFiles(plan.build);
    const probe = render(loaded, { ...plan.render, image: `${plan.repository}@${placeholderDigest}` });
    validate(probe);
    // a pull request's manifests are its author's: only what a preview may hold, checked before the build
    if (pr !== undefined && process.env[unguardedPreviewVariable] !== '1') checkPreviewManifests(probe, pr);
    if (pr !== undefined && !settings.previewDomain && loaded.some((m) => m.object.kind === 'Ingress'))
      throw new Error(
        `input 'preview-domain' is required for previews: the manifests have an Ingress, and pull request #${pr} needs a host of its own (pr-${pr}.<preview-domain>)`,
      );
    return loaded;
  });
  // docker's own config for this run: its sign-in to the registry (to push) goes when the run ends
  const docker = Docker.withPrivateConfig();
  try {
    const cluster = await timings.step('cluster credentials', () => credentials.cluster());
    await checkSignIn(settings, credentials, pr);
    // a preview only where its isolation is enforced: said before anything is built or made
    if (pr !== undefined) await checkIsolation(settings, credentials);
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
  const registry = await timings.step(`registry credentials ${settings.registry.host}`, () =>
    credentials.registry(),
  );
  const digest = await timings.step('build and push', () =>
    buildOrReuse(docker, registry, plan, settings.image.rebuild, () => credentials.registryLogin(docker)),
  );
  const image = `${plan.repository}@${digest}`;

  let objects = render(manifests, { ...plan.render, image });
  validate(objects);
  let access: PreviewAccess | undefined;
  if (pr !== undefined) {
    const base = {
      namespace: plan.namespace,
      pr,
      labels: {
        [managedByLabel]: managedBy,
        [nameLabel]: plan.render.appName,
        [instanceLabel]: plan.render.instance,
        ...plan.render.labels,
      },
      ingressNamespace: settings.ingressNamespace,
    };
    const guards = previewGuards(base);
    objects = [...guards, ...objects];
    // the preview identity reads and writes only in namespaces it made and bound itself in: first of all
    access = await timings.step('preview namespace', () =>
      preparePreviewNamespace(cluster, previewNamespaceObject({ ...base, appName: settings.appName }), {
        appName: settings.appName,
        fieldManager,
        guards: guards.map((m) => m.object),
        maxPreviews: settings.maxPreviews,
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
    return await applyAndTrack(registry, settings, run, plan, objects, cluster, timings, result, {
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
  registry: Registry,
  settings: Settings,
  run: RunInfo,
  plan: DeployPlan,
  manifestObjects: Manifest[],
  cluster: Cluster,
  timings: Timings,
  result: DeployResult,
  options: { podSecurityFails: boolean; ownsNamespace: boolean; stage: { applying: boolean } },
): Promise<DeployResult> {
  const image = result.image;
  // one deploy at a time per environment, and never an older commit's over a newer one's (kube/release/lock.ts);
  // taken before preflight, so that what preflight reads (its dry-runs too) holds until the apply. A
  // workload an autoscaler scales keeps the autoscaler's replicas: read meanwhile.
  const [scaled, locked] = await Promise.allSettled([
    leaveReplicasToAutoscalers(cluster, plan.namespace, manifestObjects),
    lockEnvironment(cluster, {
      namespace: plan.namespace,
      instance: plan.render.instance,
      run: { ...thisRun(), sha: run.sha },
      rolloutTimeoutMs: settings.rolloutTimeoutMs,
    }),
  ]);
  if (locked.status === 'rejected') throw locked.reason;
  await using _lock = locked.value;
  if (scaled.status === 'rejected') throw scaled.reason;
  const autoscaled = scaled.value;
  const objects = autoscaled.objects;
  const set = objects.map((m) => m.object);
  // what the cluster will make of the set, before anything is applied; an unchanged set ends the deploy
  // here. The release history is read meanwhile.
  const history = releaseHistory(cluster, plan.namespace, plan.render.instance);
  history.catch(() => undefined);
  const checked = await timings.step('preflight', () =>
    preflight(
      cluster,
      // an autoscaled workload is checked at the autoscaler's live scale
      objects.map((m) => autoscaled.live.get(`${m.object.kind}/${m.object.metadata?.name}`) ?? m.object),
      {
        namespace: plan.namespace,
        instance: plan.render.instance,
        fieldManager,
        image,
        imagePlatforms: () => imagePlatforms(registry, image),
        mode: settings.preflight,
        aks: settings.cluster.kind === 'aks' ? settings.cluster : undefined,
        // the lock found or made it
        namespaceExists: true,
        log: core,
      },
    ),
  );
  const { all: releases, previous } = await history;
  if (checked.unchanged) {
    result.applied = checked.unchanged.objects;
    result.revision = checked.unchanged.revision;
    await recordIfNone(cluster, plan, run.sha, image, set, releases);
    (await moveTags(registry, plan, image, timings))();
    return result;
  }

  const failing: Failing = {
    settings,
    cluster,
    plan,
    timings,
    result,
    previous,
    serving: new Map(),
  };
  options.stage.applying = true;
  let prunable: Promise<Prunable[]> | undefined;
  // a cancelled run (the runner's SIGINT) ends the wait at once and restores the previous release
  const cancel = catchCancellation();
  try {
    const work = async () => {
      const applied = await timings.step('apply', () =>
        applySet(cluster, set, {
          fieldManager,
          force: settings.forceConflicts,
          namespace: plan.namespace,
          podSecurityFails: options.podSecurityFails,
          ownsNamespace: options.ownsNamespace,
          namespaceExists: true,
          dryRuns: checked.dryRuns,
          sourceOf: sourcesOf(objects),
          signal: cancel.signal,
          ...(set.some(isPreDeploy)
            ? {
                firstStage: {
                  select: isPreDeploy,
                  run: () =>
                    timings.time('pre-deploy Jobs', () =>
                      runPreDeployJobs(cluster, plan.namespace, set, {
                        timeoutMs: settings.rolloutTimeoutMs,
                        graceMs: settings.failureGrace.graceMs,
                        crashLoopRestarts: settings.failureGrace.crashLoopRestarts,
                        onProgress: (line) => core.info(line),
                        log: (line) => core.info(line),
                        signal: cancel.signal,
                        withholdLogs: plan.podLogsWithheld,
                      }),
                    ),
                },
              }
            : {}),
          // the whole set passed the dry-run: from here on, a failure restores the previous release
          beforeWrite: async () => {
            for (const h of await handOverReplicas(
              cluster,
              plan.namespace,
              autoscaled.workloads,
              fieldManager,
            ))
              core.info(`${h.workload}: spec.replicas (${h.replicas}) handed over to its autoscaler`);
            failing.serving = await servingRevisions(
              cluster,
              plan.namespace,
              [...set, ...(previous?.objects ?? [])],
              checked.live,
            );
            failing.release = await recordRelease(
              cluster,
              plan.namespace,
              plan.render.instance,
              { sha: run.sha, image, objects: set },
              releases,
            );
            result.release = failing.release.number;
            core.info(`release ${failing.release.number} recorded (Secret ${failing.release.secret})`);
          },
        }),
      );
      result.applied = applied.objects;
      for (const o of applied.objects) core.info(`${o.kind}/${o.name} ${o.action}`);
      reportTakenOver(applied.takenOver);
      // every workload of the set at once; the first failure stops the others (and a cancel, all)
      const deployments = objects.filter((o) => o.object.kind === 'Deployment');
      const primary = deployments[0]?.object.metadata?.name;
      const others = objects.filter((o) => trackedKinds.has(o.object.kind ?? '') && !isPreDeploy(o.object));
      await timings.step('rollout', () =>
        allOrFirstFailure(
          [
            ...deployments.map((m) => (signal: AbortSignal) => {
              const name = m.object.metadata?.name ?? '';
              return timings.time(`rollout of Deployment/${name}`, () =>
                rollout(settings, cluster, plan, name, result, failing, {
                  primary: name === primary,
                  signal,
                }),
              );
            }),
            ...others.map((m) => (signal: AbortSignal) => {
              const ref = `${m.object.kind}/${m.object.metadata?.name}`;
              return timings.time(`rollout of ${ref}`, () =>
                trackOther(settings, cluster, plan, m.object, signal),
              );
            }),
          ],
          cancel.signal,
        ),
      );
      // what prune will delete is read meanwhile (not during the rollout, whose controllers need the API
      // server); deleted only once the release is proven
      prunable = findPrunable(cluster, plan.namespace, plan.render.instance, set);
      prunable.catch(() => undefined);
      await timings.step('endpoints', () => reportReach(settings, cluster, objects, result));
      if (settings.smokeCheck)
        await timings.step('smoke check', () =>
          smokeCheckServices(cluster, plan.namespace, set, run.sha, image, {
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
    if (!failing.release) throw error;
    if (error instanceof PreDeployFailure) throw await stopBeforeRest(error, failing);
    throw await restorePrevious(errorText(error), failing, error instanceof Cancelled);
  } finally {
    cancel.dispose();
  }

  // proven: this release is the one to restore from now on, and what it dropped can go
  const release = failing.release;
  if (release)
    await Promise.all([
      markRelease(cluster, plan.namespace, release, 'deployed'),
      previous && markRelease(cluster, plan.namespace, previous, 'superseded'),
    ]);
  // the registry's tags move while the cluster prunes; reported after prune's log group
  const tagging = moveTags(registry, plan, image, timings);
  try {
    result.pruned = await timings.step('prune', async () => {
      const found = await (prunable ?? findPrunable(cluster, plan.namespace, plan.render.instance, set));
      const pruned = await deletePrunable(cluster, plan.namespace, found);
      for (const p of pruned) core.info(`${p.kind}/${p.name} pruned (no longer in ${settings.manifests})`);
      return pruned;
    });
  } finally {
    (await tagging)();
  }
  return result;
}

/**
 * A set that is live and unchanged but has no deployed release (deployed before releases were recorded)
 * becomes one, so that the next failure has something whole to restore.
 */
async function recordIfNone(
  cluster: Cluster,
  plan: DeployPlan,
  sha: string,
  image: string,
  set: KubernetesObject[],
  all: ReleaseInfo[],
): Promise<void> {
  if (lastDeployed(all)) return;
  const recorded = await recordRelease(
    cluster,
    plan.namespace,
    plan.render.instance,
    {
      sha,
      image,
      objects: set,
      outcome: 'deployed',
      note: 'recorded from the live set, which was unchanged',
    },
    all,
  ).catch((error) => {
    // another run recorded it meanwhile
    if (error instanceof KubeApiError && error.status === 409) return undefined;
    throw error;
  });
  if (recorded) core.info(`release ${recorded.number} recorded for the live set (Secret ${recorded.secret})`);
}

/** The set without spec.replicas where an autoscaler (in the set or live) scales the workload. */
async function leaveReplicasToAutoscalers(cluster: Cluster, namespace: string, objects: Manifest[]) {
  const targets = await autoscaledTargets(
    cluster,
    namespace,
    objects.map((m) => m.object),
  );
  const { objects: stripped, left } = withoutReplicas(
    objects.map((m) => m.object),
    targets,
  );
  const live = new Map<string, KubernetesObject>();
  for (const l of left) {
    const object = stripped.find((o) => `${o.kind}/${o.metadata?.name}` === l.workload);
    const path = await cluster.pathOf('apps/v1', object?.kind ?? '', namespace, object?.metadata?.name);
    const now = await cluster
      .request<{ spec?: { replicas?: number } }>('GET', path)
      .catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
    const replicas = now?.spec?.replicas;
    if (object && replicas !== undefined)
      live.set(l.workload, {
        ...object,
        spec: { ...(object as { spec?: object }).spec, replicas },
      } as KubernetesObject);
    core.info(
      `${l.workload}: spec.replicas is left to ${l.autoscaler}${replicas === undefined ? '' : ` (now ${replicas})`}; the manifests' replicas are not applied`,
    );
  }
  return {
    objects: objects.map((m, i) => ({ ...m, object: (stripped[i] ?? m.object) as Manifest['object'] })),
    workloads: left.map((l) => l.workload),
    live,
  };
}

/** One line for what was taken over from kubectl; a notice where the manifests undo a hand `kubectl scale`. */
function reportTakenOver(taken: TakenOver[]): void {
  if (taken.length === 0) return;
  core.info(
    `taken over from kubectl (objects made or changed by hand): ${taken.map((t) => `${t.kind}/${t.name} ${t.field} (${t.manager})`).join(', ')}`,
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

/** What a failure after the first write needs to restore the previous release. */
interface Failing {
  settings: Settings;
  cluster: Cluster;
  plan: DeployPlan;
  timings: Timings;
  result: DeployResult;
  /** the last deployed release, with its objects */
  previous?: Release;
  /** this deploy's release record, once the first write is near */
  release?: ReleaseInfo;
  /** each Deployment's revision before the first write: what serves again after a restore */
  serving: Map<string, number>;
  /** the Deployment whose rollout failed, for the fallback of clusters without release records */
  failedDeployment?: string;
}

/** The releases of the instance and the last deployed one, read in full; an unreadable one is skipped. */
async function releaseHistory(cluster: Cluster, namespace: string, instance: string) {
  const all = await listReleases(cluster, namespace, instance);
  const info = lastDeployed(all);
  let previous: Release | undefined;
  if (info)
    previous = await readRelease(cluster, namespace, info).catch((error) => {
      core.warning(`${errorText(error)}: a failed deploy falls back to undoing the failed Deployment only`);
      return undefined;
    });
  return { all, previous };
}

/** Each Deployment's live revision; `read` holds those preflight read under this deploy's lock. */
async function servingRevisions(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  read: Map<string, KubernetesObject>,
): Promise<Map<string, number>> {
  const serving = new Map<string, number>();
  const names = new Set(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata?.name ?? ''));
  for (const name of names) {
    const live =
      read.get(`Deployment/${name}`) ??
      (await cluster.request<V1Deployment>('GET', deploymentPath(namespace, name)).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      }));
    if (live) serving.set(name, revisionOf(live));
  }
  return serving;
}

/** A pre-deploy Job failed: the rest of the set was never written, so what served before still does. */
async function stopBeforeRest(error: PreDeployFailure, f: Failing): Promise<DeployFailure> {
  const { cluster, plan, result } = f;
  if (f.release)
    await markRelease(cluster, plan.namespace, f.release, 'failed', error.message.slice(0, 1000)).catch((e) =>
      core.warning(`could not mark release ${f.release?.number} failed: ${errorText(e)}`),
    );
  const serving = f.previous
    ? `release ${f.previous.number} (${f.previous.sha.slice(0, 7)}) is still serving`
    : 'what was live before is unchanged';
  return new DeployFailure(
    `${error.message}\nNothing else of release ${f.release?.number} was applied: ${serving}. Job/${error.job} is left as it failed, for its logs; the next deploy replaces it.`,
    result,
  );
}

/** Marks this release failed and restores the previous one entirely; the error says what serves now. */
async function restorePrevious(what: string, f: Failing, cancelled = false): Promise<DeployFailure> {
  const { cluster, plan, settings, result } = f;
  if (f.release)
    await markRelease(cluster, plan.namespace, f.release, 'failed', what.slice(0, 1000)).catch((error) =>
      core.warning(`could not mark release ${f.release?.number} failed: ${errorText(error)}`),
    );
  if (!settings.rollbackOnFailure)
    return new DeployFailure(
      `${what} Automatic rollback is off (input 'rollback-on-failure'); release ${f.release?.number} was left as it is.`,
      result,
    );
  const previous = f.previous;
  if (!previous) return undoFailedDeployment(what, f);
  try {
    const restored = await f.timings.step(`restore release ${previous.number}`, async () => {
      // what the failed release added goes; what it dropped was never pruned
      const applied = await restoreRelease(cluster, plan.namespace, plan.render.instance, previous, (line) =>
        core.info(line),
      );
      const deployments = previous.objects.filter((o) => o.kind === 'Deployment');
      // a cancelled run has seconds before the runner kills it: the cluster finishes the rollout alone
      if (cancelled) return { applied, deployments: deployments.map((d) => d.metadata?.name ?? '') };
      for (const d of deployments) {
        const name = d.metadata?.name ?? '';
        const done = await trackRollout(cluster, plan.namespace, name, {
          ...settings.failureGrace,
          timeoutMs: settings.rolloutTimeoutMs,
          onProgress: (line) => core.info(line),
        });
        if (name === f.failedDeployment || deployments.length === 1) result.revision = done.revision;
      }
      for (const w of restoredWorkloads(previous))
        await trackWorkload(cluster, plan.namespace, w.kind ?? '', w.metadata?.name ?? '', {
          timeoutMs: settings.rolloutTimeoutMs,
          graceMs: settings.failureGrace.graceMs,
          crashLoopRestarts: settings.failureGrace.crashLoopRestarts,
          onProgress: (line) => core.info(line),
        });
      return { applied, deployments: deployments.map((d) => d.metadata?.name ?? '') };
    });
    core.info(
      `release ${previous.number} restored: ${restored.applied.objects.filter((o) => o.action !== 'unchanged').length} objects changed back`,
    );
    const sentence = cancelled
      ? `Rolled back to release ${previous.number} (${previous.sha.slice(0, 7)}): its set is applied again and the cluster rolls it out (not waited for: the run was cancelled).`
      : restoredSentence(previous, restored.deployments, f.serving);
    return new DeployFailure(`${what} ${sentence}`, result);
  } catch (error) {
    return new DeployFailure(
      `${what} Restoring release ${previous.number} (${previous.sha.slice(0, 7)}) failed: ${errorText(error)}`,
      result,
    );
  }
}

function restoredSentence(
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
async function undoFailedDeployment(what: string, f: Failing): Promise<DeployFailure> {
  const { cluster, plan, settings, result } = f;
  const name = f.failedDeployment;
  if (!name)
    return new DeployFailure(
      `${what} No earlier release of ${plan.render.instance} is recorded in namespace '${plan.namespace}' to restore; release ${f.release?.number} was left as it is.`,
      result,
    );
  try {
    const back = await rollbackTo(cluster, plan.namespace, name);
    core.info(`rolling back Deployment/${name} to revision ${back.to} (${back.images.join(', ')})`);
    const done = await trackRollout(cluster, plan.namespace, name, {
      ...settings.failureGrace,
      timeoutMs: settings.rolloutTimeoutMs,
      onProgress: (line) => core.info(line),
    });
    result.revision = done.revision;
    return new DeployFailure(`${what} Rolled back: revision ${back.to}'s pods are serving again.`, result);
  } catch (error) {
    return new DeployFailure(`${what} Rollback: ${errorText(error)}`, result);
  }
}

/**
 * latest / pr-N point at the image only once it is proven: rolled out and smoke-checked. Resolves, never
 * rejects, to what to log about it (said when the caller's log group is closed).
 */
async function moveTags(
  registry: Registry,
  plan: DeployPlan,
  image: string,
  timings: Timings,
): Promise<() => void> {
  if (plan.movingTags.length === 0) return () => {};
  const tags = plan.movingTags.join(', ');
  try {
    await timings.time('move tags', () => addTags(registry, image, plan.movingTags));
    return () => core.info(`${tags} -> ${image}`);
  } catch (error) {
    // the release is live and proven; only the convenience tag lags behind
    return () =>
      core.warning(`the deploy succeeded, but ${tags} could not be moved to ${image}: ${errorText(error)}`);
  }
}

// the EndpointSlice controller's lag behind Ready pods: seconds at most on a busy control plane
const ENDPOINTS_WAIT_MS = 20_000;

/** Ready endpoints of each Service and the Ingress address: that the rollout is reachable, not only done. */
async function reportReach(settings: Settings, cluster: Cluster, objects: Manifest[], result: DeployResult) {
  // each Service and Ingress asked at once, reported in the set's order
  const reports = await Promise.all(
    objects.map(async (m): Promise<(() => void) | undefined> => {
      const name = m.object.metadata?.name ?? '';
      if (m.object.kind === 'Service') {
        const spec = (m.object as { spec?: { selector?: Record<string, string>; type?: string } }).spec;
        const selects = Object.keys(spec?.selector ?? {}).length > 0 && spec?.type !== 'ExternalName';
        const e = await serviceEndpoints(cluster, result.namespace, name, selects ? ENDPOINTS_WAIT_MS : 0);
        return () => {
          result.endpoints.push(e);
          const line = `Service/${name}: ${e.ready} ready endpoint${e.ready === 1 ? '' : 's'}${e.notReady ? `, ${e.notReady} not ready` : ''}`;
          if (e.ready === 0) core.warning(`${line}: nothing serves behind it`);
          else core.info(line);
        };
      }
      if (m.object.kind === 'Ingress') {
        const address = settings.waitForIngress
          ? await waitForIngressAddress(cluster, result.namespace, name, settings.rolloutTimeoutMs)
          : await ingressAddress(cluster, result.namespace, name);
        return () => {
          result.ingressAddress = address;
          core.info(
            `Ingress/${name}: ${address ? `address ${address}` : 'no address yet (its controller assigns one)'}`,
          );
        };
      }
      return undefined;
    }),
  );
  for (const report of reports) report?.();
}

/** A local account's kubeconfig is cluster-admin: no preview runs as that; production is warned. */
async function checkSignIn(
  settings: Settings,
  credentials: Credentials,
  pr: number | undefined,
): Promise<void> {
  if (settings.cluster.kind !== 'aks' || credentials.entraSignIn !== false || settings.cluster.admin) return;
  const { localAccountWarning } = await import('../azure/aks.js');
  const warning = localAccountWarning(settings.cluster);
  if (pr !== undefined)
    throw new Error(
      `${warning}. A pull request's preview does not run as cluster admin: nothing was built or made.`,
    );
  core.warning(warning);
}

/** A preview only where its NetworkPolicy is enforced (input require-network-policy), said before it is made. */
async function checkIsolation(settings: Settings, credentials: Credentials): Promise<void> {
  if (settings.cluster.kind !== 'aks') {
    core.notice(
      "whether this cluster (input kubeconfig) enforces NetworkPolicies was not checked: check that its network plugin does (Calico, Cilium, ...), or the preview's default-deny NetworkPolicy denies nothing and its pods reach production's and the node's metadata endpoint",
    );
    return;
  }
  // input require-network-policy false: a read that fails (a 403) is a warning too
  const refusal = await credentials.previewIsolationRefusal().catch((e: unknown) => {
    if (settings.requireNetworkPolicy) throw e;
    return `whether the cluster enforces NetworkPolicies could not be checked: ${errorText(e)}`;
  });
  if (!refusal) return;
  if (settings.requireNetworkPolicy)
    throw new Error(
      `${refusal}. No preview was built or made: input 'require-network-policy: false' makes it anyway, with this as a warning.`,
    );
  core.warning(`${refusal}. The preview is made anyway (input 'require-network-policy' is false).`);
}

/** The commit's image when the registry has it (a rerun deploys the same digest), else a fresh build. */
async function buildOrReuse(
  docker: Docker,
  registry: Registry,
  plan: DeployPlan,
  rebuild: boolean,
  login: () => Promise<void>,
): Promise<string> {
  const [commitTag] = plan.build.tags;
  if (!rebuild && commitTag) {
    const existing = await reusableImage(registry, commitTag, plan.build.labels[revisionLabel] ?? '');
    if (existing.digest) {
      core.info(
        `${commitTag} is already in the registry (${existing.digest}): deploying it as is (input 'rebuild' builds anew)`,
      );
      return existing.digest;
    }
    if (existing.reason)
      core.notice(`${commitTag} is in the registry, but ${existing.reason}: building it anew`);
  }
  // docker is needed only to build (a commit already pushed deploys from a runner without it); what the
  // runner lacks fails here, before docker signs in and before anything is written to the cluster
  const versions = await checkDocker(docker);
  core.info(`docker ${versions.client} (engine ${versions.server}), buildx ${versions.buildx}`);
  await login();
  const digest = await buildAndPushRetrying(docker, plan.build);
  core.info(`pushed ${plan.repository}@${digest}`);
  return digest;
}

/** A StatefulSet, DaemonSet or Job of the set, the way kstatus reads it. */
async function trackOther(
  settings: Settings,
  cluster: Cluster,
  plan: DeployPlan,
  object: KubernetesObject,
  signal: AbortSignal,
): Promise<void> {
  const ref = `${object.kind}/${object.metadata?.name}`;
  const done = await trackWorkload(cluster, plan.namespace, object.kind ?? '', object.metadata?.name ?? '', {
    timeoutMs: settings.rolloutTimeoutMs,
    graceMs: settings.failureGrace.graceMs,
    crashLoopRestarts: settings.failureGrace.crashLoopRestarts,
    onProgress: (line) => core.info(line),
    signal,
  }).catch(async (error: unknown) => {
    if (signal.aborted) throw error;
    // a Job's own words say why it failed
    const logs =
      object.kind === 'Job'
        ? await jobLogs(cluster, plan.namespace, object.metadata?.name ?? '', 20, plan.podLogsWithheld).catch(
            (e: unknown) => `\n  (its logs could not be read: ${errorText(e)})`,
          )
        : '';
    throw new Error(`the rollout of ${ref} failed: ${errorText(error)}${logs}`);
  });
  core.info(
    `${ref} ${object.kind === 'Job' ? 'complete' : 'rolled out'} in ${(done.elapsedMs / 1000).toFixed(1)} s`,
  );
}

async function rollout(
  settings: Settings,
  cluster: Cluster,
  plan: DeployPlan,
  name: string,
  result: DeployResult,
  failing: Failing,
  options: { primary: boolean; signal: AbortSignal },
): Promise<void> {
  try {
    const done = await trackRollout(cluster, plan.namespace, name, {
      ...settings.failureGrace,
      timeoutMs: settings.rolloutTimeoutMs,
      onProgress: (line) => core.info(line),
      signal: options.signal,
    });
    // the release's revision is its first Deployment's
    if (options.primary) result.revision = done.revision;
    core.info(
      `Deployment/${name} revision ${done.revision} rolled out in ${(done.elapsedMs / 1000).toFixed(1)} s${done.reconnects ? ` (the watch was resumed ${done.reconnects} times)` : ''}`,
    );
  } catch (error) {
    if (!(error instanceof RolloutFailure)) throw error;
    failing.failedDeployment = name;
    result.diagnosis = await diagnose(cluster, plan.namespace, name, {
      ...aksNames(settings),
      withholdLogs: plan.podLogsWithheld,
    }).catch((e) => {
      core.warning(`could not diagnose Deployment/${name}: ${errorText(e)}`);
      return undefined;
    });
    for (const line of result.diagnosis ? diagnosisLines(result.diagnosis) : []) core.info(line);
    // each says whose rollout it is: said once, here
    const revision = error.detail.revision;
    const why =
      result.diagnosis?.summary.replace(`Deployment ${name} revision ${revision} failed: `, '') ??
      error.message.replace(/^Deployment \S+ \(namespace [^,]+, revision \d+\): /, '');
    throw new Error(`the rollout of Deployment/${name} revision ${revision} failed: ${why}`);
  }
}

function urlOf(objects: Manifest[]): string {
  return urlOfIngress(objects.find((m) => m.object.kind === 'Ingress')?.object);
}
