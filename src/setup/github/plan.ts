// The GitHub side of setup, planned: the wanted settings against the state read, as a list of changes in
// the order apply makes them, with the plan's limits and refusals stated. Pure: a second run on the applied
// state plans nothing.
import { planVariables, type VariableChange } from '../plan.js';
import type { SubjectTemplate } from '../subjects.js';
import { githubLimits } from './limits.js';
import { type RulesetBody, rulesetMatches, wantedRuleset } from './ruleset.js';
import { type EnvironmentState, type GitHubState, type Reviewer, reviewerBody } from './state.js';

export interface GitHubWanted {
  /** the deployment environment, e.g. production */
  environment: string;
  /** its required reviewers (up to six, with their names for the plan); none: left as they are */
  reviewers: Reviewer[];
  /** the variables to hold (../plan.ts wantedVariables): never secrets */
  variables: VariableChange[];
  /** the status check contexts the default branch requires, e.g. ['ci', 'check-dist'] */
  requiredChecks: string[];
  /** claim keys of a custom OIDC subject template (e.g. repo, context, job_workflow_ref); undefined: as it is */
  oidcClaimKeys?: string[];
}

/** The body of `repos/create-or-update-environment`. */
export interface EnvironmentBody {
  wait_timer?: number;
  prevent_self_review?: boolean;
  reviewers?: Reviewer[];
  deployment_branch_policy: { protected_branches: false; custom_branch_policies: true };
}

export type GitHubChange =
  | {
      kind: 'environment';
      name: string;
      create: boolean;
      body: EnvironmentBody;
      /** the required reviewers after the change, named (body.reviewers has their ids only) */
      reviewers: Reviewer[];
      /** set when the change replaces the reviewers of an existing environment: what they were */
      before?: { reviewers: Reviewer[]; preventSelfReview: boolean };
    }
  | { kind: 'branch-policy'; environment: string; branch: string }
  | { kind: 'variable'; variable: VariableChange }
  | { kind: 'workflow-permissions'; current?: boolean }
  | { kind: 'ruleset'; id?: number; body: RulesetBody }
  | { kind: 'oidc-template'; template: SubjectTemplate; current: SubjectTemplate };

export interface GitHubPlan {
  changes: GitHubChange[];
  /** what the repository's plan leaves out, and the way out */
  limits: string[];
  /** why apply would refuse (the caller's rights); the plan is still shown */
  refusals: string[];
  /**
   * The OIDC subject template after apply, the one the federated credentials' subjects are built from
   * (subjects.ts), with `subjectRepository` as their repository; undefined when unknowable (then a refusal says why).
   */
  template?: SubjectTemplate;
  subjectRepository: string;
  defaultBranch: string;
}

export function planGitHub(state: GitHubState, wanted: GitHubWanted): GitHubPlan {
  if (wanted.reviewers.length > 6)
    throw new Error(
      `${wanted.reviewers.length} required reviewers given for environment ${wanted.environment}; GitHub takes at most 6 users or teams: give a team instead of its members`,
    );
  const limits = githubLimits(state, wanted.environment);
  const notes = [...limits.notes];
  const changes: GitHubChange[] = [];
  if (limits.environments)
    changes.push(...planEnvironment(state.environment, wanted, state.defaultBranch, limits.reviewers));
  if (
    limits.environments &&
    limits.reviewers &&
    wanted.reviewers.length === 0 &&
    !state.environment?.reviewers.length
  )
    notes.push(noApprovalStep(state, wanted.environment));
  const variables = limits.environments
    ? wanted.variables
    : wanted.variables.filter((v) => v.environment === undefined);
  for (const variable of planVariables(variables, state.variables))
    changes.push({ kind: 'variable', variable });
  if (state.workflowPermissions?.can_approve_pull_request_reviews !== false)
    changes.push({
      kind: 'workflow-permissions',
      current: state.workflowPermissions?.can_approve_pull_request_reviews,
    });
  if (limits.rulesets) {
    const body = wantedRuleset(wanted.requiredChecks);
    const existing = state.rulesets.find((r) => r.id === state.record.rulesetId) ?? state.rulesets[0];
    if (!existing) changes.push({ kind: 'ruleset', body });
    else if (!rulesetMatches(existing, body)) changes.push({ kind: 'ruleset', id: existing.id, body });
  }
  let template = state.subjectTemplate;
  if (wanted.oidcClaimKeys) {
    const keys = wanted.oidcClaimKeys;
    const bad = keys.find((k) => !/^\w+$/.test(k));
    if (bad !== undefined || keys.length === 0)
      throw new Error(
        `OIDC claim keys '${keys.join(',')}' are not a subject template: give letters, digits and underscores, like repo,context,job_workflow_ref`,
      );
    const current = state.oidcTemplate;
    const same =
      !current.use_default &&
      (current.include_claim_keys ?? []).length === keys.length &&
      keys.every((k, i) => current.include_claim_keys?.[i] === k);
    template = { use_default: false, include_claim_keys: [...keys] };
    if (!same) changes.push({ kind: 'oidc-template', template, current });
  }
  const refusals: string[] = [];
  if (!state.permissions.admin) {
    const has = state.permissions.maintain ? 'maintain' : state.permissions.push ? 'write' : 'read';
    refusals.push(
      `you need admin on ${state.owner}/${state.repo} (you have ${has}): environments, variables, rulesets, workflow permissions and the OIDC template are admin settings; ask an owner of ${state.owner}/${state.repo} to make you an admin or to run setup`,
    );
  }
  if (!template)
    refusals.push(
      `${state.owner}/${state.repo} follows organization ${state.owner}'s OIDC subject template, which this token cannot read (it needs read:org): the federated credentials' subjects cannot be known; give the claim keys to set (e.g. repo,context,job_workflow_ref) or a token that can read the organization`,
    );
  return {
    changes,
    limits: notes,
    refusals,
    template,
    subjectRepository: state.subjectRepository,
    defaultBranch: state.defaultBranch,
  };
}

/** The environment with a custom branch policy for the default branch, and reviewers when given. */
function planEnvironment(
  existing: EnvironmentState | undefined,
  wanted: GitHubWanted,
  defaultBranch: string,
  reviewersAvailable: boolean,
): GitHubChange[] {
  const changes: GitHubChange[] = [];
  const withReviewers = reviewersAvailable && wanted.reviewers.length > 0;
  const body: EnvironmentBody = {
    deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
  };
  if (existing?.waitTimer) body.wait_timer = existing.waitTimer;
  // prevent_self_review only with reviewers: GitHub refuses it on an environment without any
  const reviewers = withReviewers ? wanted.reviewers : (existing?.reviewers ?? []);
  if (reviewers.length > 0) {
    body.reviewers = reviewerBody(reviewers);
    body.prevent_self_review = withReviewers || existing?.preventSelfReview === true;
  }
  const custom = existing?.branchPolicy?.custom_branch_policies === true;
  const reviewersDiffer =
    withReviewers &&
    (!existing?.preventSelfReview ||
      existing.reviewers.length !== wanted.reviewers.length ||
      !wanted.reviewers.every((r) => existing.reviewers.some((e) => e.type === r.type && e.id === r.id)));
  const before =
    existing && reviewersDiffer
      ? { reviewers: existing.reviewers, preventSelfReview: existing.preventSelfReview }
      : undefined;
  if (!existing || !custom || reviewersDiffer)
    changes.push({
      kind: 'environment',
      name: wanted.environment,
      create: !existing,
      body,
      reviewers,
      ...(before ? { before } : {}),
    });
  const policies = custom ? (existing?.branchPolicies ?? []) : [];
  if (!policies.some((p) => p.type === 'branch' && p.name === defaultBranch))
    changes.push({ kind: 'branch-policy', environment: wanted.environment, branch: defaultBranch });
  return changes;
}

/** The note of a plan without required reviewers: production deploys then wait for nobody. */
function noApprovalStep(state: Pick<GitHubState, 'ownerType'>, environment: string): string {
  const forms =
    state.ownerType === 'Organization'
      ? '--reviewer <login> (a user) or --reviewer <org>/<team-slug> (a team)'
      : '--reviewer <login>';
  return `production deploys run without an approval step: environment ${environment} has no required reviewers; to add one, run setup again with up to 6 of ${forms}: one of them then approves each deploy, never the one who started it`;
}
