// Reads everything setup plans from, changing nothing: the repository (default branch, visibility, the
// caller's rights), the owner's plan where readable, the OIDC subject template, the environment and its branch
// policies, variables, the workflow permissions and the rulesets. Operation ids of GitHub's REST description
// are named at each call.
import type { GitHub } from '../../github/client.js';
import { githubMessage, setupCall, statusOf } from './connect.js';
import { readOidc } from './oidc.js';
import {
  type EnvironmentState,
  type GitHubState,
  parseRecord,
  type Reviewer,
  type RulesetState,
  recordVariable,
  rulesetName,
} from './state.js';

/** The state of gh's repository for setup, reading environment `environment` (e.g. production). */
export async function readGitHubState(gh: GitHub, environment: string): Promise<GitHubState> {
  const { owner, repo } = gh;
  // repos/get
  const repository = await setupCall(gh, 'reading the repository', (o) => o.rest.repos.get({ owner, repo }), {
    404: `there is no repository ${owner}/${repo} the token can see: check --repository, and that the token has access to it`,
  });
  const permissions = {
    admin: repository.permissions?.admin === true,
    maintain: repository.permissions?.maintain === true,
    push: repository.permissions?.push === true,
  };
  const ownerType = repository.owner.type === 'Organization' ? 'Organization' : 'User';
  const oidc = await readOidc(gh, ownerType, { owner: repository.owner.id, repo: repository.id });
  const env = await readEnvironment(gh, environment);
  const variables = new Map<string, string>();
  // actions/list-repo-variables
  const repoVariables = await setupCall(gh, 'listing repository variables', async (o) => ({
    data: await o.paginate(o.rest.actions.listRepoVariables, { owner, repo, per_page: 30 }),
  }));
  for (const v of repoVariables) variables.set(`/${v.name}`, v.value);
  if (env) {
    // actions/list-environment-variables
    const envVariables = await setupCall(gh, `listing environment ${environment}'s variables`, async (o) => ({
      data: await o.paginate(o.rest.actions.listEnvironmentVariables, {
        owner,
        repo,
        environment_name: environment,
        per_page: 30,
      }),
    }));
    for (const v of envVariables) variables.set(`${environment}/${v.name}`, v.value);
  }
  const recordPresent = variables.has(`/${recordVariable}`);
  const record = parseRecord(variables.get(`/${recordVariable}`));
  variables.delete(`/${recordVariable}`);
  // actions/get-github-actions-default-workflow-permissions-repository: admin only
  const workflowPermissions = permissions.admin
    ? await setupCall(gh, 'reading the workflow permissions', (o) =>
        o.rest.actions.getGithubActionsDefaultWorkflowPermissionsRepository({ owner, repo }),
      )
    : undefined;
  const { available, rulesets } = await readRulesets(gh, record.rulesetId);
  return {
    owner,
    repo,
    defaultBranch: repository.default_branch,
    private: repository.private,
    visibility: repository.visibility ?? (repository.private ? 'private' : 'public'),
    ownerType,
    plan: await readPlan(gh, ownerType),
    permissions,
    ...oidc,
    environment: env,
    rulesetsAvailable: available,
    variables,
    workflowPermissions,
    rulesets,
    record,
    recordPresent,
  };
}

/** The environment and its branch policies; undefined when it does not exist (404). */
async function readEnvironment(gh: GitHub, name: string): Promise<EnvironmentState | undefined> {
  const { owner, repo } = gh;
  // repos/get-environment
  const env = await orUndefined([404], () =>
    setupCall(gh, `reading environment ${name}`, (o) =>
      o.rest.repos.getEnvironment({ owner, repo, environment_name: name }),
    ),
  );
  if (!env) return undefined;
  const state: EnvironmentState = {
    name,
    reviewers: [],
    preventSelfReview: false,
    waitTimer: 0,
    branchPolicy: env.deployment_branch_policy ?? null,
    branchPolicies: [],
  };
  for (const rule of env.protection_rules ?? []) {
    if (rule.type === 'wait_timer' && 'wait_timer' in rule) state.waitTimer = rule.wait_timer ?? 0;
    if (rule.type === 'required_reviewers' && 'reviewers' in rule) {
      state.preventSelfReview = 'prevent_self_review' in rule && rule.prevent_self_review === true;
      state.reviewers = (rule.reviewers ?? []).flatMap((r): Reviewer[] => {
        const who = r.reviewer;
        if (!who || (r.type !== 'User' && r.type !== 'Team')) return [];
        // a user's login; a team's slug, in the repository's organization
        const name = 'login' in who ? who.login : 'slug' in who ? `${owner}/${who.slug}` : undefined;
        return [{ type: r.type, id: Number(who.id), ...(name ? { name } : {}) }];
      });
    }
  }
  if (state.branchPolicy?.custom_branch_policies) {
    // repos/list-deployment-branch-policies
    const policies = await setupCall(gh, `listing environment ${name}'s deployment branch policies`, (o) =>
      o.rest.repos.listDeploymentBranchPolicies({ owner, repo, environment_name: name, per_page: 100 }),
    );
    state.branchPolicies = policies.branch_policies.map((p) => ({
      id: p.id ?? 0,
      name: p.name ?? '',
      type: p.type === 'tag' ? 'tag' : 'branch',
    }));
  }
  return state;
}

/**
 * The repository's own branch rulesets, setup's with its rules. A 403 whose message asks to upgrade is GitHub
 * saying rulesets are not available here (a private repository on GitHub Free): then `available` is false.
 */
async function readRulesets(
  gh: GitHub,
  recordedId: number | undefined,
): Promise<{ available: boolean; rulesets: RulesetState[] }> {
  const { owner, repo } = gh;
  let list: Array<{ id: number; name: string; target?: string; source_type?: string; enforcement: string }>;
  try {
    // repos/get-repo-rulesets
    list = await setupCall(gh, 'listing rulesets', async (o) => ({
      data: await o.paginate(o.rest.repos.getRepoRulesets, {
        owner,
        repo,
        includes_parents: false,
        per_page: 100,
      }),
    }));
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (statusOf(cause) === 403 && /upgrade/i.test(githubMessage(cause)))
      return { available: false, rulesets: [] };
    throw error;
  }
  const rulesets: RulesetState[] = [];
  for (const summary of list) {
    if (summary.source_type && summary.source_type !== 'Repository') continue;
    if (summary.target && summary.target !== 'branch') continue;
    if (summary.name !== rulesetName && summary.id !== recordedId) continue;
    // repos/get-repo-ruleset
    const full = await setupCall(gh, `reading ruleset ${summary.name}`, (o) =>
      o.rest.repos.getRepoRuleset({ owner, repo, ruleset_id: summary.id }),
    );
    rulesets.push({
      id: full.id,
      name: full.name,
      target: full.target ?? 'branch',
      enforcement: full.enforcement,
      conditions: full.conditions ?? null,
      rules: (full.rules ?? []) as RulesetState['rules'],
    });
  }
  return { available: true, rulesets };
}

/**
 * The owner's plan where the caller can read it: an organization's for its owners (orgs/get), a user's own
 * (users/get-authenticated). Others get undefined, and the plan's limits fall back to what GitHub answers.
 */
async function readPlan(gh: GitHub, ownerType: 'User' | 'Organization'): Promise<string | undefined> {
  if (ownerType === 'Organization') {
    // orgs/get
    const org = await orUndefined([403, 404], () =>
      setupCall(gh, 'reading the organization', (o) => o.rest.orgs.get({ org: gh.owner })),
    );
    return org?.plan?.name;
  }
  // users/get-authenticated: a GitHub App's token gets 403
  const user = await orUndefined([403, 404], () =>
    setupCall(gh, 'reading the signed-in user', (o) => o.rest.users.getAuthenticated()),
  );
  return user && user.login.toLowerCase() === gh.owner.toLowerCase() ? user.plan?.name : undefined;
}

/** The call's answer, or undefined when GitHub answered one of `statuses` (which then means "absent"). */
async function orUndefined<T>(statuses: number[], read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const status = statusOf((error as { cause?: unknown }).cause);
    if (status !== undefined && statuses.includes(status)) return undefined;
    throw error;
  }
}
