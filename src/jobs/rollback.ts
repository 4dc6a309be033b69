import * as core from '@actions/core';
import type { Credentials } from '../credentials.js';
import type { Outcome } from '../github/publish.js';
import type { Cluster } from '../kube/client/client.js';
import type { Diagnosis } from '../kube/diagnosis/diagnose.js';
import { ingressUrl } from '../kube/reach/reach.js';
import { lockEnvironment } from '../kube/release/lock.js';
import {
  lastDeployed,
  listReleases,
  markRelease,
  type Release,
  type ReleaseInfo,
  readRelease,
} from '../kube/release/release.js';
import { rollbackTo } from '../kube/release/revision-rollback.js';
import { instanceDeployment, type RevisionRow, revisionsOf } from '../kube/rollout/deployment.js';
import { TrackFailure, trackerText, trackingOptions, trackSet } from '../kube/rollout/track-set.js';
import { previewNamespace } from '../names.js';
import { type RunInfo, withheldPodLogs } from '../plan.js';
import { imageDigest } from '../registry/images.js';
import { thisRun } from '../runner.js';
import type { RollbackTarget, Settings } from '../settings.js';
import { errorText } from '../util/errors.js';
import { Timings } from '../util/timings.js';
import { findRelease, releaseLine, rollbackRelease, validReleaseTargets } from './rollback-release.js';

// The manual rollback: list the Deployment's revisions, resolve input rollback-target to one of them
// (previous, a revision number, a git sha, or an image tag looked up in the registry), restore it the way
// `kubectl rollout undo --to-revision` does, and track that rollout. An unknown target changes nothing.
// An environment with release records rolls back by release instead, whole (rollback-release.ts).

export type { RevisionRow } from '../kube/rollout/deployment.js';

export interface RollbackPlan {
  cluster: Cluster;
  /** 'production' or 'pr-<n>' */
  environment: string;
  pr?: number;
  namespace: string;
  /** app.kubernetes.io/instance of the environment: whose release records to update */
  instance: string;
  deployment: string;
  revisions: RevisionRow[];
  target: RevisionRow;
  timings: Timings;
  /** set when the environment has release records: the target release, whole (rollback-release.ts) */
  release?: Release;
  releases?: ReleaseInfo[];
  /** set for a preview of a public repository: its pods' logs are its pull request's, never shown */
  podLogsWithheld: string;
}

export interface RollbackResult extends Outcome {
  environment: string;
  namespace: string;
  deployment: string;
  revisions: RevisionRow[];
  /** the revision that was running, and the one whose template was restored */
  from: number;
  to: number;
  /** the target already was what ran: nothing changed */
  unchanged: boolean;
  timings: Timings['steps'];
  diagnosis?: Diagnosis;
  /** the environment's releases before the rollback, when it has release records */
  releases?: ReleaseInfo[];
  /** the new release the restore was recorded as */
  recorded?: number;
  /** mode abort: what happened, in one sentence, and output canary 'aborted' */
  sentence?: string;
  canaryState?: string;
}

/** A rollback that failed; carries what was found and done, for the report. */
export class RollbackFailure extends Error {
  constructor(
    message: string,
    readonly result: RollbackResult,
  ) {
    super(message);
    this.name = 'RollbackFailure';
  }
}

/** Reads the revisions and resolves the target; changes nothing. */
export async function planRollback(
  settings: Settings,
  credentials: Credentials,
  run: Pick<RunInfo, 'publicRepository'>,
): Promise<RollbackPlan> {
  const timings = new Timings();
  const env = settings.environment;
  const environment = env.kind === 'production' ? 'production' : `pr-${env.pr}`;
  const namespace =
    env.kind === 'production' ? settings.namespace : previewNamespace(settings.appName, env.pr);
  const instance = env.kind === 'production' ? settings.appName : namespace;
  const cluster = await timings.step('cluster credentials', () => credentials.cluster());
  const releases = await timings.step(`releases in ${namespace}`, () =>
    listReleases(cluster, namespace, instance),
  );
  const base = {
    cluster,
    environment,
    ...(env.kind === 'preview' ? { pr: env.pr } : {}),
    namespace,
    instance,
    timings,
    podLogsWithheld: env.kind === 'preview' ? withheldPodLogs(settings, run, namespace) : '',
  };
  if (lastDeployed(releases)) return planFromReleases(settings, credentials, base, releases);
  const { deployment, revisions } = await timings.step(`revisions in ${namespace}`, async () => {
    const name = await instanceDeployment(cluster, namespace, instance, environment);
    const rows = await revisionsOf(cluster, namespace, name);
    for (const r of rows) core.info(revisionLine(r));
    return { deployment: name, revisions: rows };
  });
  const failed = (message: string) =>
    new RollbackFailure(message, {
      ...emptyResult(environment, namespace, deployment, revisions),
      timings: timings.steps,
    });

  const where = `Deployment ${deployment} in namespace '${namespace}'`;
  let target = findRevision(settings.rollbackTarget, revisions);
  if (!target && settings.rollbackTarget.kind === 'image') {
    const name = env.kind === 'production' ? settings.image.name : settings.image.previewName;
    const reference = `${settings.registry.host}/${name}:${settings.rollbackTarget.ref}`;
    const digest = await timings.step(`look up ${reference}`, () => digestOf(credentials, reference));
    target = digest ? revisions.find((r) => r.images.some((i) => i.endsWith(`@${digest}`))) : undefined;
    if (!target)
      throw failed(
        `input 'rollback-target': '${settings.rollbackTarget.ref}' is no git sha of a revision of ${where}, and ` +
          (digest
            ? `its image in the registry (${digest}) is in none of them`
            : `the registry has no image ${reference}`) +
          `; nothing was changed. Valid targets: ${validTargets(revisions)}`,
      );
  }
  if (!target)
    throw failed(
      `${unknownTarget(settings.rollbackTarget, where)}; nothing was changed. Valid targets: ${validTargets(revisions)}`,
    );
  core.info(`target: revision ${target.revision} (${target.images.join(', ')})`);
  return {
    ...base,
    deployment,
    revisions,
    target,
  };
}

/** The target among the environment's releases: the whole set of one comes back (rollback-release.ts). */
async function planFromReleases(
  settings: Settings,
  credentials: Credentials,
  base: Omit<RollbackPlan, 'deployment' | 'revisions' | 'target'>,
  releases: ReleaseInfo[],
): Promise<RollbackPlan> {
  const { cluster, namespace, timings } = base;
  const current = lastDeployed(releases);
  for (const r of releases) core.info(releaseLine(r, current));
  const failed = (message: string) =>
    new RollbackFailure(message, {
      ...emptyResult(base.environment, namespace, '', []),
      releases,
      timings: timings.steps,
    });
  const where = `the releases of ${base.environment} in namespace '${namespace}'`;
  let target = findRelease(settings.rollbackTarget, releases);
  let lookedUp = '';
  if (!target && settings.rollbackTarget.kind === 'image') {
    const name = base.pr === undefined ? settings.image.name : settings.image.previewName;
    const reference = `${settings.registry.host}/${name}:${settings.rollbackTarget.ref}`;
    const digest = await timings.step(`look up ${reference}`, () => digestOf(credentials, reference));
    const served = (r: ReleaseInfo) => r.outcome === 'deployed' || r.outcome === 'superseded';
    target = digest
      ? [...releases].reverse().find((r) => served(r) && r.image.endsWith(`@${digest}`))
      : undefined;
    lookedUp = digest
      ? `its image in the registry (${digest}) is in none of them`
      : `the registry has no image ${reference}`;
  }
  if (!target) {
    const t = settings.rollbackTarget;
    const what =
      t.kind === 'previous'
        ? `nothing to roll back to: ${where} hold no deployed release older than the current one`
        : t.kind === 'revision'
          ? `input 'rollback-target': ${where} hold no deployed release ${t.revision}`
          : `input 'rollback-target': '${t.ref}' is no git sha of ${where}, and ${lookedUp}`;
    throw failed(`${what}; nothing was changed. Valid targets: ${validReleaseTargets(releases)}`);
  }
  const release = await readRelease(cluster, namespace, target);
  const deployment = release.objects.find((o) => o.kind === 'Deployment')?.metadata?.name ?? '';
  core.info(`target: release ${target.number} (commit ${target.sha.slice(0, 7)}, ${target.image})`);
  return {
    ...base,
    deployment,
    revisions: [],
    target: {
      revision: target.number,
      images: [target.image],
      created: target.created,
      gitSha: target.sha,
      current: target.number === current?.number,
    },
    release,
    releases,
  };
}

/** Restores the planned revision and tracks its rollout; a failed rollout is diagnosed, not undone. */
export async function rollback(settings: Settings, plan: RollbackPlan): Promise<RollbackResult> {
  const { cluster, namespace, deployment, timings } = plan;
  const result: RollbackResult = {
    ...emptyResult(plan.environment, namespace, deployment, plan.revisions),
    timings: timings.steps,
  };
  if (plan.release) {
    const withRelease = { ...plan, release: plan.release };
    try {
      return await rollbackRelease(settings, withRelease, result);
    } catch (error) {
      if (error instanceof RollbackFailure) throw error;
      throw new RollbackFailure(errorText(error), result);
    }
  }
  // a deploy still running in the environment finishes first (and the rollback then undoes the newest)
  await using _lock = await lockForRollback(settings, plan);
  const back = await timings.step(
    `roll back Deployment/${deployment} to revision ${plan.target.revision}`,
    () => rollbackTo(cluster, namespace, deployment, plan.target.revision),
  );
  Object.assign(result, {
    from: back.from,
    to: back.to,
    unchanged: back.skipped,
    revision: back.from,
    image: back.images[0] ?? '',
    digest: (back.images[0] ?? '').split('@')[1] ?? '',
    url: await ingressUrl(cluster, namespace),
  });
  if (back.skipped) {
    core.info(`revision ${back.to} is what Deployment/${deployment} runs already: nothing to change`);
    return result;
  }
  // the last deployed release no longer describes what runs: a failed deploy must not restore it
  const deployed = lastDeployed(await listReleases(cluster, namespace, plan.instance));
  if (deployed)
    await markRelease(
      cluster,
      namespace,
      deployed,
      'superseded',
      `Deployment/${deployment} rolled back by hand to revision ${back.to}`,
    );
  try {
    const [done] = await trackSet(
      cluster,
      namespace,
      [{ kind: 'Deployment', metadata: { name: deployment } }],
      {
        ...trackingOptions(settings, plan),
        time: (name, work) => timings.step(name, work),
      },
    );
    result.revision = done?.revision ?? result.revision;
  } catch (error) {
    if (!(error instanceof TrackFailure)) throw error;
    result.diagnosis = error.diagnosis;
    throw new RollbackFailure(
      `the rollback of Deployment/${deployment} to revision ${back.to} did not roll out: ${error.diagnosis?.summary ?? trackerText(error)}`,
      result,
    );
  }
  core.info(
    `Deployment/${deployment} runs revision ${back.to}'s template again, as revision ${result.revision}`,
  );
  return result;
}

/** The environment's deploy lock, for a rollback: a deploy still running there finishes first. */
export function lockForRollback(
  settings: Settings,
  plan: Pick<RollbackPlan, 'cluster' | 'namespace' | 'instance' | 'timings'>,
) {
  return plan.timings.step(`lock ${plan.namespace}`, () =>
    lockEnvironment(plan.cluster, {
      run: thisRun(),
      namespace: plan.namespace,
      instance: plan.instance,
      rolloutTimeoutMs: settings.rolloutTimeoutMs,
      purpose: 'rollback',
    }),
  );
}

/** The revision a target names, when the cluster alone can tell (pure); undefined when it cannot. */
export function findRevision(target: RollbackTarget, revisions: RevisionRow[]): RevisionRow | undefined {
  const newestFirst = [...revisions].sort((a, b) => b.revision - a.revision);
  const current = revisions.find((r) => r.current)?.revision ?? Number.POSITIVE_INFINITY;
  switch (target.kind) {
    case 'previous':
      return newestFirst.find((r) => r.revision < current);
    case 'revision':
      return revisions.find((r) => r.revision === target.revision);
    case 'image': {
      const ref = target.ref.toLowerCase();
      if (!/^[0-9a-f]{7,40}$/.test(ref)) return undefined;
      return newestFirst.find((r) =>
        r.gitSha ? r.gitSha.startsWith(ref) : r.changeCause?.split(' ')[0] === ref.slice(0, 7),
      );
    }
  }
}

export function validTargets(revisions: RevisionRow[]): string {
  if (revisions.length === 0) return 'none (the Deployment has no revisions)';
  const previous = findRevision({ kind: 'previous' }, revisions);
  const list = [...revisions]
    .sort((a, b) => b.revision - a.revision)
    .map((r) => {
      const notes = [r.gitSha ? `git sha ${r.gitSha.slice(0, 7)}` : '', r.current ? 'current' : ''].filter(
        Boolean,
      );
      return `${r.revision}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
    });
  return [previous ? `previous (= revision ${previous.revision})` : undefined, ...list]
    .filter(Boolean)
    .join(', ');
}

function unknownTarget(target: RollbackTarget, where: string): string {
  switch (target.kind) {
    case 'previous':
      return `nothing to roll back to: ${where} has no revision older than the current one`;
    case 'revision':
      return `input 'rollback-target': ${where} has no revision ${target.revision}`;
    case 'image':
      return `input 'rollback-target': '${target.ref}' matches no revision of ${where}`;
  }
}

export function revisionLine(r: RevisionRow): string {
  return `revision ${r.revision}${r.current ? ' (current)' : ''}: ${r.images.join(', ')}, created ${r.created}${
    r.changeCause ? `, ${r.changeCause}` : ''
  }`;
}

async function digestOf(credentials: Credentials, reference: string): Promise<string | undefined> {
  return await imageDigest(await credentials.registry(), reference);
}

function emptyResult(
  environment: string,
  namespace: string,
  deployment: string,
  revisions: RevisionRow[],
): Omit<RollbackResult, 'timings'> {
  return {
    environment,
    namespace,
    deployment,
    revisions,
    from: revisions.find((r) => r.current)?.revision ?? 0,
    to: 0,
    unchanged: false,
    revision: 0,
    image: '',
    digest: '',
    url: '',
  };
}
