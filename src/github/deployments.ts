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
      // a success makes the environment's earlier deployments inactive
      auto_inactive: state === 'success',
    }),
  );
}

/** Marks the environment's deployments inactive (the newest 100: one page, enough for any preview). */
export async function deactivateEnvironment(gh: GitHub, environment: string, why: string): Promise<number> {
  const deployments = await call(gh, `list the deployments to ${environment}`, permission, (o) =>
    o.rest.repos.listDeployments({ owner: gh.owner, repo: gh.repo, environment, per_page: 100 }),
  );
  for (const d of deployments) await setDeploymentStatus(gh, d.id, 'inactive', { description: why });
  return deployments.length;
}
