// What setup reads of a repository on GitHub, and the record it keeps there of what it changed, so that a
// teardown undoes exactly that. Pure types and the record's (de)serialisation.
import type { SubjectTemplate } from '../subjects.js';

/** A required reviewer of an environment, as the REST API names one (`reviewers[].type` and `.id`). */
export interface Reviewer {
  type: 'User' | 'Team';
  id: number;
  /** the user's login or the team's <org>/<slug>, for the plan's lines; never sent (reviewerBody) */
  name?: string;
}

/** Reviewers as `repos/create-or-update-environment` takes them: type and id only. */
export function reviewerBody(reviewers: Reviewer[]): Reviewer[] {
  return reviewers.map(({ type, id }) => ({ type, id }));
}

/** A reviewer as the plan names it: its login or <org>/<slug>, else its type and id. */
export function reviewerName(reviewer: Reviewer): string {
  return reviewer.name ?? `${reviewer.type === 'User' ? 'user' : 'team'} ${reviewer.id}`;
}

/** A deployment environment and its protections (`repos/get-environment`, `repos/list-deployment-branch-policies`). */
export interface EnvironmentState {
  name: string;
  reviewers: Reviewer[];
  preventSelfReview: boolean;
  waitTimer: number;
  /** null: every branch may deploy */
  branchPolicy: { protected_branches: boolean; custom_branch_policies: boolean } | null;
  /** the name patterns when custom_branch_policies is true */
  branchPolicies: Array<{ id: number; name: string; type: 'branch' | 'tag' }>;
}

/** A repository ruleset with its rules (`repos/get-repo-ruleset`). */
export interface RulesetState {
  id: number;
  name: string;
  target: string;
  enforcement: string;
  conditions: unknown;
  rules: Array<{ type: string; parameters?: Record<string, unknown> }>;
}

export interface GitHubState {
  owner: string;
  repo: string;
  defaultBranch: string;
  private: boolean;
  visibility: string;
  ownerType: 'User' | 'Organization';
  /** the owner's plan (free, pro, team, enterprise, …) where the caller may read it; undefined: unknown */
  plan?: string;
  /** the caller's permissions on the repository (`repos/get` → permissions) */
  permissions: { admin: boolean; maintain: boolean; push: boolean };
  /** the repository's OIDC subject template setting, as GitHub answers it */
  oidcTemplate: SubjectTemplate;
  /** the template the subjects follow (the organization's when the repository defers to it); undefined: unreadable */
  subjectTemplate?: SubjectTemplate;
  /** the repository part of subjects: owner/repo, or owner@id/repo@id where GitHub issues immutable subjects */
  subjectRepository: string;
  /** the environment setup manages; undefined when it does not exist */
  environment?: EnvironmentState;
  /** false when GitHub refuses rulesets on this repository (a private one on GitHub Free) */
  rulesetsAvailable: boolean;
  /** variables keyed `<environment or ''>/<NAME>`, as planVariables (../plan.ts) takes them */
  variables: Map<string, string>;
  /** `actions/get-github-actions-default-workflow-permissions-repository`; undefined when unreadable (not admin) */
  workflowPermissions?: { default_workflow_permissions: string; can_approve_pull_request_reviews: boolean };
  /** rulesets of the repository itself targeting branches, with their rules */
  rulesets: RulesetState[];
  /** what earlier runs of setup changed, from the marker variable */
  record: SetupRecord;
  /** whether the marker variable exists */
  recordPresent: boolean;
}

/** The repository variable in which setup keeps its record: its own, never one the workflows read. */
export const recordVariable = 'ARCHETYPE_DEPLOY_SETUP';

/** The name of the ruleset setup creates, so teardown removes that one and no other. */
export const rulesetName = 'archetype-deploy';

/** What setup changed, with the values before, so teardown restores them. */
export interface SetupRecord {
  /** the environment setup created (teardown deletes it, its variables with it) */
  createdEnvironment?: string;
  /** an existing environment's protections before setup changed them */
  environmentBefore?: Omit<EnvironmentState, 'branchPolicies'>;
  /** ids of the branch policies setup added to an environment it did not create */
  branchPolicies: number[];
  /** variables setup wrote; `previous` undefined: setup created it */
  variables: Array<{ environment?: string; name: string; previous?: string }>;
  /** the ruleset setup created */
  rulesetId?: number;
  oidcBefore?: SubjectTemplate;
  canApproveBefore?: boolean;
}

export function emptyRecord(): SetupRecord {
  return { branchPolicies: [], variables: [] };
}

/** The record from the marker variable's value; a value setup did not write is an error naming it. */
export function parseRecord(value: string | undefined): SetupRecord {
  if (value === undefined) return emptyRecord();
  try {
    const parsed = JSON.parse(value) as Partial<SetupRecord>;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return { ...parsed, branchPolicies: parsed.branchPolicies ?? [], variables: parsed.variables ?? [] };
  } catch (error) {
    throw new Error(
      `repository variable ${recordVariable} holds '${value.slice(0, 80)}', not setup's record (${error instanceof Error ? error.message : String(error)}); delete the variable or restore its value`,
    );
  }
}
