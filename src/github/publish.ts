import * as core from '@actions/core';
import { bestEffort, type GitHub } from './client.js';
import { commentBody, type PreviewStatus, upsertComment } from './comments.js';
import {
  createDeployment,
  type Deactivation,
  deactivateEarlier,
  deactivateEnvironment,
  maxInactivePerRun,
  setDeploymentStatus,
} from './deployments.js';

// The GitHub side of a job: a deployment with statuses in_progress -> success / failure around a deploy or
// a rollback, the environment's earlier deployments inactive after a success, the pull request's sticky
// comment for previews, and inactive deployments once a preview is gone. Without a token (gh undefined) the
// work runs alone.

/** What a deploy or a rollback reports, whether it worked or not. */
export interface Outcome {
  url: string;
  image: string;
  digest: string;
  revision: number;
  /** publicSummary: the diagnosis without pod logs (they are the pull request's words) */
  diagnosis?: { publicSummary: string };
  /** the job ended waiting (a canary paused for review): the deployment stays in_progress, saying this */
  waiting?: string;
}

export interface Publication {
  appName: string;
  /** 'production' or 'pr-<n>' */
  environment: string;
  /** the commit deployed */
  ref: string;
  /** the pull request of a preview: its comment is kept up to date */
  pr?: number;
  kind: 'deploy' | 'rollback';
  /** for the deployment's description, e.g. 'rollback to revision 2' */
  description: string;
  payload: Record<string, string>;
}

export interface Removal {
  pr: number;
  namespace: string;
  /** e.g. 'pull request closed' */
  reason: string;
}

/** A push deploy (production) or a pull request's preview (pr-<n>). */
export function deployPublication(appName: string, sha: string, pr?: number): Publication {
  const environment = pr === undefined ? 'production' : `pr-${pr}`;
  return {
    appName,
    environment,
    ref: sha,
    ...(pr === undefined ? {} : { pr }),
    kind: 'deploy',
    description: `deploy ${sha.slice(0, 7)} to ${environment}`,
    payload: {},
  };
}

/** A rollback, recorded at the commit the restored revision was deployed from (else the run's). */
export function rollbackPublication(
  appName: string,
  plan: {
    environment: string;
    pr?: number;
    namespace: string;
    target: { revision: number; gitSha?: string };
    /** a rollback by release: target.revision is its number */
    release?: unknown;
  },
  runSha: string,
): Publication {
  return {
    appName,
    environment: plan.environment,
    ref: plan.target.gitSha ?? runSha,
    ...(plan.pr === undefined ? {} : { pr: plan.pr }),
    kind: 'rollback',
    description: `rollback to ${plan.release ? 'release' : 'revision'} ${plan.target.revision}`,
    payload: { namespace: plan.namespace },
  };
}

/** Mode abort: recorded at the commit whose canary was taken back. */
export function abortPublication(
  appName: string,
  review: { namespace: string; paused: { number: number; sha: string; pausedAt: number } },
): Publication {
  return {
    appName,
    environment: 'production',
    ref: review.paused.sha,
    kind: 'rollback',
    description: `abort the canary of release ${review.paused.number} at ${review.paused.pausedAt} %`,
    payload: { namespace: review.namespace },
  };
}

export async function published<T extends Outcome>(
  gh: GitHub | undefined,
  p: Publication,
  work: () => Promise<T>,
): Promise<T> {
  if (!gh) return work();
  const id = await bestEffort(`GitHub deployment to ${p.environment}: in_progress`, async () => {
    const created = await createDeployment(gh, {
      environment: p.environment,
      ref: p.ref,
      description: p.description,
      payload: p.payload,
    });
    await setDeploymentStatus(gh, created, 'in_progress', { description: p.description, logUrl: gh.runUrl });
    return created;
  });
  let result: T;
  try {
    result = await work();
  } catch (error) {
    const partial = outcomeOf(error);
    // what anyone can read gets no text the pull request controls (pod logs, its manifests quoted in an
    // error, what its app answered): the diagnosis without logs, or a pointer to the run
    const line =
      partial?.diagnosis?.publicSummary ??
      `${p.description} failed; the workflow run's log and job summary say why`;
    await finish(gh, id, p, 'failure', line, partial);
    throw error;
  }
  if (result.waiting) {
    const waiting = result.waiting;
    if (id !== undefined)
      await bestEffort(`GitHub deployment to ${p.environment}: in_progress`, () =>
        setDeploymentStatus(gh, id, 'in_progress', { description: waiting, logUrl: gh.runUrl }),
      );
    return result;
  }
  const line = `${p.description}: revision ${result.revision || '-'} is serving${result.url ? ` at ${result.url}` : ''}`;
  await finish(gh, id, p, 'success', line, result);
  return result;
}

async function finish(
  gh: GitHub,
  id: number | undefined,
  p: Publication,
  state: 'success' | 'failure',
  line: string,
  outcome: Outcome | undefined,
): Promise<void> {
  const set =
    id !== undefined &&
    (await bestEffort(`GitHub deployment to ${p.environment}: ${state}`, async () => {
      await setDeploymentStatus(gh, id, state, {
        description: line,
        logUrl: gh.runUrl,
        ...(state === 'success' && outcome?.url ? { environmentUrl: outcome.url } : {}),
      });
      return true;
    })) === true;
  if (p.pr !== undefined) await comment(gh, { ...p, pr: p.pr }, state, line, outcome);
  // after the comment, which people wait for: one write per earlier deployment, a second apart
  if (set && id !== undefined && state === 'success')
    await bestEffort(`GitHub deployments of ${p.environment} before ${id}: inactive`, async () => {
      const done = await deactivateEarlier(gh, p.environment, id, `superseded by deployment ${id}`);
      core.info(`${p.environment}: ${inactiveLine(done)}`);
      if (done.left) leftNotice(gh, [{ environment: p.environment, left: done.left }]);
    });
}

async function comment(
  gh: GitHub,
  p: Publication & { pr: number },
  state: 'success' | 'failure',
  line: string,
  outcome: Outcome | undefined,
): Promise<void> {
  const status: PreviewStatus =
    state === 'failure' ? 'failed' : p.kind === 'rollback' ? 'rolled back' : 'deployed';
  const body = commentBody(p.appName, {
    environment: p.environment,
    status,
    ...(outcome?.url ? { url: outcome.url } : {}),
    ...(outcome?.image ? { image: outcome.image } : {}),
    ...(outcome?.digest ? { digest: outcome.digest } : {}),
    ...(outcome?.revision ? { revision: outcome.revision } : {}),
    commit: p.ref,
    ...(state === 'failure' || p.kind === 'rollback' ? { detail: line } : {}),
    runUrl: gh.runUrl,
    at: new Date(),
  });
  const pr = p.pr;
  await bestEffort(`comment on pull request #${pr}`, () =>
    upsertComment(gh, pr, p.appName, body, { createIfMissing: true }),
  );
}

/** Marks each removed preview's deployments inactive and says so in its comment; one line per preview. */
export async function publishRemoval(
  gh: GitHub | undefined,
  appName: string,
  removed: Removal[],
): Promise<string[]> {
  if (!gh) return [];
  const lines: string[] = [];
  const left: { environment: string; left: number }[] = [];
  for (const r of removed) {
    const environment = `pr-${r.pr}`;
    const done = await bestEffort(`GitHub deployments of ${environment}: inactive`, () =>
      deactivateEnvironment(gh, environment, `preview removed: ${r.reason}`),
    );
    if (done?.left) left.push({ environment, left: done.left });
    const body = commentBody(appName, {
      environment,
      status: 'removed',
      detail: `namespace ${r.namespace} deleted: ${r.reason}`,
      runUrl: gh.runUrl,
      at: new Date(),
    });
    const comment = await bestEffort(`comment on pull request #${r.pr}`, () =>
      upsertComment(gh, r.pr, appName, body, { createIfMissing: false }),
    );
    lines.push(
      `${environment}: ${done === undefined ? 'deployments not updated (see the warning)' : inactiveLine(done)}` +
        (comment === 'updated' ? ', comment updated' : ''),
    );
  }
  if (left.length) leftNotice(gh, left);
  return lines;
}

function inactiveLine(d: Deactivation): string {
  return `${d.marked} deployment(s) marked inactive${d.left ? `, ${d.left} left active` : ''}`;
}

/** Names the deployments past the run's bound, and how to mark them. */
function leftNotice(gh: GitHub, left: { environment: string; left: number }[]): void {
  const named = left.map((l) => `${l.left} of ${l.environment}`).join(', ');
  core.notice(
    `GitHub deployments left active: ${named} (the newest of each). One run marks at most ${maxInactivePerRun} deployments inactive, to stay under GitHub's secondary limit on content-creating requests (80 a minute, 500 an hour); mark them with 'gh api -X POST repos/${gh.owner}/${gh.repo}/deployments/<id>/statuses -f state=inactive', or let the environment's next successful deploy mark those that succeeded`,
  );
}

/** The outcome a failed job carries (DeployFailure.result, RollbackFailure.result). */
function outcomeOf(error: unknown): Outcome | undefined {
  const result = (error as { result?: unknown } | null)?.result;
  return result && typeof result === 'object' && 'image' in result ? (result as Outcome) : undefined;
}
