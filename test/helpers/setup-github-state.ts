import type { GitHubState } from '../../src/setup/github/state.js';

/** What setup reads of a public organization repository nobody set up yet, with `overrides`. */
export function githubState(overrides: Partial<GitHubState> = {}): GitHubState {
  return {
    owner: 'team',
    repo: 'archetype',
    defaultBranch: 'main',
    private: false,
    visibility: 'public',
    ownerType: 'Organization',
    permissions: { admin: true, maintain: true, push: true },
    oidcTemplate: { use_default: true },
    subjectTemplate: { use_default: true },
    subjectRepository: 'team/archetype',
    rulesetsAvailable: true,
    variables: new Map(),
    workflowPermissions: { default_workflow_permissions: 'read', can_approve_pull_request_reviews: false },
    rulesets: [],
    record: { branchPolicies: [], variables: [] },
    recordPresent: false,
    ...overrides,
  };
}
