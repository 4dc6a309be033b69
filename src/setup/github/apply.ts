// Applies a GitHub plan in its order (environment, its branch policy, variables, workflow permissions,
// ruleset, OIDC template), recording in the marker variable what it created and what it changed from what,
// so that teardown undoes exactly that. Refuses before any write when the plan has a refusal. A failure stops
// at that change, keeps the record of the changes made before it, and says which it was.
import type { GitHub } from '../../github/client.js';
import { setupCall } from './connect.js';
import type { GitHubChange, GitHubPlan } from './plan.js';
import { describeGitHubChange } from './render.js';
import { type GitHubState, recordVariable, type SetupRecord } from './state.js';

/** Applies `plan` (made from `state`); returns the lines of what it did. */
export async function applyGitHubPlan(gh: GitHub, state: GitHubState, plan: GitHubPlan): Promise<string[]> {
  if (plan.refusals.length > 0) throw new Error(plan.refusals.join('; '));
  if (plan.changes.length === 0) return [];
  const record: SetupRecord = structuredClone(state.record);
  const done: string[] = [];
  let failure: unknown;
  for (const change of plan.changes) {
    try {
      await applyChange(gh, state, change, record);
      done.push(describeGitHubChange(change));
    } catch (error) {
      failure = error;
      break;
    }
  }
  try {
    if (done.length > 0) await writeRecord(gh, record, state.recordPresent);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${failure ? `${failure instanceof Error ? failure.message : String(failure)}; and ` : ''}setup could not keep its record of ${done.length} change(s) in repository variable ${recordVariable} (${message}): teardown will not know them`,
      { cause: failure ?? error },
    );
  }
  if (failure)
    throw new Error(
      `${failure instanceof Error ? failure.message : String(failure)} (after ${done.length} of ${plan.changes.length} changes; run setup again to plan the rest)`,
      { cause: failure },
    );
  return done;
}

async function applyChange(gh: GitHub, state: GitHubState, change: GitHubChange, record: SetupRecord) {
  const { owner, repo } = gh;
  switch (change.kind) {
    case 'environment': {
      if (change.create) record.createdEnvironment = change.name;
      else if (state.environment && record.createdEnvironment !== change.name && !record.environmentBefore) {
        const { branchPolicies: _, ...before } = state.environment;
        record.environmentBefore = before;
      }
      // repos/create-or-update-environment
      await setupCall(gh, `${change.create ? 'creating' : 'updating'} environment ${change.name}`, (o) =>
        o.rest.repos.createOrUpdateEnvironment({
          owner,
          repo,
          environment_name: change.name,
          ...change.body,
        }),
      );
      return;
    }
    case 'branch-policy': {
      // repos/create-deployment-branch-policy
      const policy = await setupCall(
        gh,
        `adding branch policy ${change.branch} to environment ${change.environment}`,
        (o) =>
          o.rest.repos.createDeploymentBranchPolicy({
            owner,
            repo,
            environment_name: change.environment,
            name: change.branch,
            type: 'branch',
          }),
      );
      if (record.createdEnvironment !== change.environment && policy.id !== undefined)
        record.branchPolicies.push(policy.id);
      return;
    }
    case 'variable': {
      const v = change.variable;
      await writeVariable(gh, v.environment, v.name, v.value, v.current !== undefined);
      if (!record.variables.some((r) => r.environment === v.environment && r.name === v.name))
        record.variables.push({
          ...(v.environment ? { environment: v.environment } : {}),
          name: v.name,
          ...(v.current !== undefined ? { previous: v.current } : {}),
        });
      return;
    }
    case 'workflow-permissions': {
      // actions/set-github-actions-default-workflow-permissions-repository
      await setupCall(
        gh,
        'turning off "Allow GitHub Actions to create and approve pull requests"',
        (o) =>
          o.rest.actions.setGithubActionsDefaultWorkflowPermissionsRepository({
            owner,
            repo,
            default_workflow_permissions:
              state.workflowPermissions?.default_workflow_permissions === 'write' ? 'write' : 'read',
            can_approve_pull_request_reviews: false,
          }),
        {
          409: `the organization ${owner} does not let repositories change it: an owner of ${owner} turns off "Allow GitHub Actions to create and approve pull requests" in the organization's Actions settings`,
        },
      );
      record.canApproveBefore ??= change.current;
      return;
    }
    case 'ruleset': {
      const id = change.id;
      if (id === undefined) {
        // repos/create-repo-ruleset
        const created = await setupCall(gh, `creating ruleset ${change.body.name}`, (o) =>
          o.rest.repos.createRepoRuleset({ owner, repo, ...change.body }),
        );
        record.rulesetId = created.id;
      }
      // repos/update-repo-ruleset
      else
        await setupCall(gh, `updating ruleset ${change.body.name}`, (o) =>
          o.rest.repos.updateRepoRuleset({ owner, repo, ruleset_id: id, ...change.body }),
        );
      return;
    }
    case 'oidc-template': {
      // actions/set-custom-oidc-sub-claim-for-repo
      await setupCall(gh, 'setting the OIDC subject template', (o) =>
        o.rest.actions.setCustomOidcSubClaimForRepo({ owner, repo, ...change.template }),
      );
      record.oidcBefore ??= change.current;
      return;
    }
  }
}

/** Creates (actions/create-*-variable) or updates (actions/update-*-variable) one variable. */
export async function writeVariable(
  gh: GitHub,
  environment: string | undefined,
  name: string,
  value: string,
  exists: boolean,
): Promise<void> {
  const { owner, repo } = gh;
  const where = environment ? `environment ${environment}` : 'the repository';
  const what = `${exists ? 'updating' : 'creating'} variable ${name} on ${where}`;
  if (environment)
    await setupCall(gh, what, (o) =>
      exists
        ? o.rest.actions.updateEnvironmentVariable({
            owner,
            repo,
            environment_name: environment,
            name,
            value,
          })
        : o.rest.actions.createEnvironmentVariable({
            owner,
            repo,
            environment_name: environment,
            name,
            value,
          }),
    );
  else
    await setupCall(gh, what, (o) =>
      exists
        ? o.rest.actions.updateRepoVariable({ owner, repo, name, value })
        : o.rest.actions.createRepoVariable({ owner, repo, name, value }),
    );
}

async function writeRecord(gh: GitHub, record: SetupRecord, exists: boolean): Promise<void> {
  await writeVariable(gh, undefined, recordVariable, JSON.stringify(record), exists);
}
