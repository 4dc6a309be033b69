import { call, type GitHub } from './client.js';

// GitHub deployments (REST API "Deployments" and "Deployment statuses"): one per deploy or rollback, in the
// environment 'production' or 'pr-<n>', so that the pull request and the repository show what runs where.

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface NewDeployment {
  /** 'production' or 'pr-<n>' */
  environment: string;
  /** the commit being deployed */
  ref: string;
  description: string;
  /** what the action did, kept with the deployment */
  payload: Record<string, string>;
}

const permission = 'deployments: write';
// GitHub keeps at most 140 characters of a description
const short = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

export async function createDeployment(gh: GitHub, d: NewDeployment): Promise<number> {
  const production = d.environment === 'production';
  // 201 with the deployment; 202 with only a message (an auto-merge, which auto_merge: false rules out)
  const created = await call<{ id?: number; message?: string }>(
    gh,
    `create a deployment to ${d.environment}`,
    permission,
    (o) =>
      o.rest.repos.createDeployment({
        owner: gh.owner,
        repo: gh.repo,
        ref: d.ref,
        environment: d.environment,
        description: short(d.description),
        payload: d.payload,
        // this run is one of the commit's checks: do not wait for them, nor merge the default branch in
        required_contexts: [],
        auto_merge: false,
        production_environment: production,
        transient_environment: !production,
      }),
  );
  const id = (created as { id?: number }).id;
  if (!id)
    throw new Error(
      `GitHub API: the deployment to ${d.environment} was not created: ${JSON.stringify(created)}`,
    );
  return id;
}

export async function setDeploymentStatus(
  gh: GitHub,
  id: number,
  state: DeploymentState,
  details: { description: string; environmentUrl?: string; logUrl?: string },
): Promise<void> {
  await call(gh, `set deployment ${id} to ${state}`, permission, (o) =>
    o.rest.repos.createDeploymentStatus({
      owner: gh.owner,
      repo: gh.repo,
      deployment_id: id,
      state,
      description: short(details.description),
      ...(details.environmentUrl ? { environment_url: details.environmentUrl } : {}),
      ...(details.logUrl ? { log_url: details.logUrl } : {}),
      // GitHub's auto_inactive "adds a new inactive status to all prior non-transient, non-production
      // environment deployments": never ours (production, or a transient preview). deactivateEarlier does it.
      auto_inactive: false,
    }),
  );
}

// Marking deployments inactive. Each mark is a content-creating request, and GitHub's secondary limits allow
// "no more than 80 content-generating requests per minute and no more than 500 per hour" ("Rate limits for
// the REST API"): the marks go one at a time, a second apart (the client's write queue), oldest first, and
// at most maxInactivePerRun of them in one run; what is left is counted, for the caller to name.

/** The most deployments one run marks inactive. */
export const maxInactivePerRun = 100;
const markedInRun = new WeakMap<GitHub, number>();

export interface Deactivation {
  /** deployments marked inactive now */
  marked: number;
  /** deployments that should be, left as they are: past this run's bound */
  left: number;
}

/**
 * After a success: the environment's earlier deployments whose latest status is success are marked
 * inactive, as auto_inactive would for a non-production, non-transient environment.
 */
export function deactivateEarlier(
  gh: GitHub,
  environment: string,
  newest: number,
  why: string,
): Promise<Deactivation> {
  return deactivate(gh, environment, why, (d, state) => d.id < newest && state === 'success');
}

/** A preview removed: every deployment of its environment that is not inactive yet. */
export function deactivateEnvironment(gh: GitHub, environment: string, why: string): Promise<Deactivation> {
  return deactivate(gh, environment, why, () => true);
}

/**
 * Reads the environment's deployments newest first (one page of 100) and the latest status of each, down to
 * the first one already inactive: the action marks oldest first, so everything older than an inactive one
 * was marked with it. Then marks the chosen ones, oldest first, within the run's bound.
 */
async function deactivate(
  gh: GitHub,
  environment: string,
  why: string,
  choose: (d: { id: number }, state: string | undefined) => boolean,
): Promise<Deactivation> {
  const deployments = await call(gh, `list the deployments to ${environment}`, permission, (o) =>
    o.rest.repos.listDeployments({ owner: gh.owner, repo: gh.repo, environment, per_page: 100 }),
  );
  const chosen: number[] = [];
  for (const d of deployments) {
    const [latest] = await call(gh, `read the latest status of deployment ${d.id}`, permission, (o) =>
      o.rest.repos.listDeploymentStatuses({
        owner: gh.owner,
        repo: gh.repo,
        deployment_id: d.id,
        per_page: 1,
      }),
    );
    if (latest?.state === 'inactive') break;
    if (choose(d, latest?.state)) chosen.push(d.id);
  }
  const room = Math.max(0, maxInactivePerRun - (markedInRun.get(gh) ?? 0));
  const now = chosen.reverse().slice(0, room);
  for (const id of now) {
    await setDeploymentStatus(gh, id, 'inactive', { description: why });
    markedInRun.set(gh, (markedInRun.get(gh) ?? 0) + 1);
  }
  return { marked: now.length, left: chosen.length - now.length };
}
