// Teardown: undoes what setup's record says it did, and nothing else. It restores the OIDC template and the
// workflow permission it changed, deletes the ruleset it created, deletes the variables it created and puts
// back those it changed, deletes the environment it created (its variables go with it) or restores the
// protections of one it changed, and last deletes the record. planTeardown is pure, to print before.
import type { GitHub } from '../../github/client.js';
import type { SubjectTemplate } from '../subjects.js';
import { writeVariable } from './apply.js';
import { setupCall } from './connect.js';
import { type EnvironmentState, type GitHubState, recordVariable, reviewerBody } from './state.js';

export type TeardownStep =
  | { kind: 'oidc-template'; template: SubjectTemplate }
  | { kind: 'ruleset'; id: number; name: string }
  | { kind: 'workflow-permissions'; canApprove: boolean; defaultPermissions: 'read' | 'write' }
  | { kind: 'variable'; environment?: string; name: string; previous?: string }
  | { kind: 'branch-policy'; environment: string; id: number }
  | { kind: 'environment-restore'; before: Omit<EnvironmentState, 'branchPolicies'> }
  | { kind: 'environment-delete'; name: string }
  | { kind: 'record' };

export function planTeardown(state: GitHubState): { steps: TeardownStep[]; refusals: string[] } {
  const refusals = state.permissions.admin
    ? []
    : [
        `you need admin on ${state.owner}/${state.repo} to undo setup: ask an owner of ${state.owner}/${state.repo} to make you an admin or to run the teardown`,
      ];
  const record = state.record;
  const steps: TeardownStep[] = [];
  if (!state.recordPresent) return { steps, refusals };
  if (record.oidcBefore) steps.push({ kind: 'oidc-template', template: record.oidcBefore });
  const ruleset = state.rulesets.find((r) => r.id === record.rulesetId);
  if (ruleset) steps.push({ kind: 'ruleset', id: ruleset.id, name: ruleset.name });
  if (record.canApproveBefore !== undefined && state.workflowPermissions)
    steps.push({
      kind: 'workflow-permissions',
      canApprove: record.canApproveBefore,
      defaultPermissions:
        state.workflowPermissions.default_workflow_permissions === 'write' ? 'write' : 'read',
    });
  for (const v of record.variables) {
    // an environment setup created goes with its variables
    if (v.environment && v.environment === record.createdEnvironment) continue;
    if (!state.variables.has(`${v.environment ?? ''}/${v.name}`)) continue;
    steps.push({ kind: 'variable', ...v });
  }
  const env = state.environment;
  if (env && record.createdEnvironment === env.name)
    steps.push({ kind: 'environment-delete', name: env.name });
  else if (env) {
    for (const id of record.branchPolicies)
      if (env.branchPolicies.some((p) => p.id === id))
        steps.push({ kind: 'branch-policy', environment: env.name, id });
    if (record.environmentBefore?.name === env.name)
      steps.push({ kind: 'environment-restore', before: record.environmentBefore });
  }
  steps.push({ kind: 'record' });
  return { steps, refusals };
}

export function describeTeardownStep(step: TeardownStep): string {
  switch (step.kind) {
    case 'oidc-template':
      return `~ OIDC subject template back to ${step.template.use_default ? 'the default' : (step.template.include_claim_keys ?? []).join(', ')}`;
    case 'ruleset':
      return `- ruleset ${step.name}`;
    case 'workflow-permissions':
      return `~ "Allow GitHub Actions to create and approve pull requests" back ${step.canApprove ? 'on' : 'off'}`;
    case 'variable': {
      const where = step.environment ? `environment ${step.environment}` : 'repository';
      return step.previous === undefined
        ? `- variable ${step.name} on the ${where}`
        : `~ variable ${step.name} on the ${where} back to ${step.previous}`;
    }
    case 'branch-policy':
      return `- deployment branch policy ${step.id} on environment ${step.environment}`;
    case 'environment-restore':
      return `~ environment ${step.before.name}'s protections back as they were`;
    case 'environment-delete':
      return `- GitHub environment ${step.name} (with its variables)`;
    case 'record':
      return `- variable ${recordVariable} (setup's record)`;
  }
}

/** Runs the teardown steps in order; refuses before any write when the caller lacks the right. */
export async function applyTeardown(
  gh: GitHub,
  teardown: { steps: TeardownStep[]; refusals: string[] },
): Promise<void> {
  if (teardown.refusals.length > 0) throw new Error(teardown.refusals.join('; '));
  const { owner, repo } = gh;
  for (const step of teardown.steps) {
    switch (step.kind) {
      case 'oidc-template':
        // actions/set-custom-oidc-sub-claim-for-repo
        await setupCall(gh, 'restoring the OIDC subject template', (o) =>
          o.rest.actions.setCustomOidcSubClaimForRepo({ owner, repo, ...step.template }),
        );
        break;
      case 'ruleset':
        // repos/delete-repo-ruleset
        await setupCall(gh, `deleting ruleset ${step.name}`, (o) =>
          o.rest.repos.deleteRepoRuleset({ owner, repo, ruleset_id: step.id }),
        );
        break;
      case 'workflow-permissions':
        // actions/set-github-actions-default-workflow-permissions-repository
        await setupCall(gh, 'restoring the workflow permissions', (o) =>
          o.rest.actions.setGithubActionsDefaultWorkflowPermissionsRepository({
            owner,
            repo,
            default_workflow_permissions: step.defaultPermissions,
            can_approve_pull_request_reviews: step.canApprove,
          }),
        );
        break;
      case 'variable':
        if (step.previous !== undefined)
          await writeVariable(gh, step.environment, step.name, step.previous, true);
        else await deleteVariable(gh, step.environment, step.name);
        break;
      case 'branch-policy':
        // repos/delete-deployment-branch-policy
        await setupCall(gh, `deleting branch policy ${step.id} of environment ${step.environment}`, (o) =>
          o.rest.repos.deleteDeploymentBranchPolicy({
            owner,
            repo,
            environment_name: step.environment,
            branch_policy_id: step.id,
          }),
        );
        break;
      case 'environment-restore':
        await restoreEnvironment(gh, step.before);
        break;
      case 'environment-delete':
        // repos/delete-an-environment
        await setupCall(gh, `deleting environment ${step.name}`, (o) =>
          o.rest.repos.deleteAnEnvironment({ owner, repo, environment_name: step.name }),
        );
        break;
      case 'record':
        await deleteVariable(gh, undefined, recordVariable);
        break;
    }
  }
}

/** actions/delete-environment-variable or actions/delete-repo-variable */
async function deleteVariable(gh: GitHub, environment: string | undefined, name: string): Promise<void> {
  const { owner, repo } = gh;
  if (environment)
    await setupCall(gh, `deleting variable ${name} of environment ${environment}`, (o) =>
      o.rest.actions.deleteEnvironmentVariable({ owner, repo, environment_name: environment, name }),
    );
  else
    await setupCall(gh, `deleting repository variable ${name}`, (o) =>
      o.rest.actions.deleteRepoVariable({ owner, repo, name }),
    );
}

/** repos/create-or-update-environment with the protections the environment had before setup. */
async function restoreEnvironment(
  gh: GitHub,
  before: Omit<EnvironmentState, 'branchPolicies'>,
): Promise<void> {
  const { owner, repo } = gh;
  await setupCall(gh, `restoring environment ${before.name}`, (o) =>
    o.rest.repos.createOrUpdateEnvironment({
      owner,
      repo,
      environment_name: before.name,
      wait_timer: before.waitTimer,
      reviewers: reviewerBody(before.reviewers),
      ...(before.reviewers.length > 0 ? { prevent_self_review: before.preventSelfReview } : {}),
      deployment_branch_policy: before.branchPolicy,
    }),
  );
}
