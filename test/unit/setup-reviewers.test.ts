import { identityNames } from '../../src/setup/azure/ids.js';
import { type GitHubWanted, planGitHub } from '../../src/setup/github/plan.js';
import { describeGitHubChange } from '../../src/setup/github/render.js';
import type { EnvironmentState, GitHubState, Reviewer } from '../../src/setup/github/state.js';
import { blockers, planGitHubSide } from '../../src/setup/whole-plan.js';
import { githubState } from '../helpers/setup-github-state.js';

// The production environment's required reviewers (--reviewer), planned: set with self-review prevented,
// nothing when they already match, a `~` naming old and new when they differ, left alone without the flag
// (and then a `not done:` line), and none where the repository's plan has no reviewers.

const alice: Reviewer = { type: 'User', id: 11, name: 'alice' };
const deployers: Reviewer = { type: 'Team', id: 22, name: 'team/deployers' };
const bob: Reviewer = { type: 'User', id: 33, name: 'bob' };

function environment(overrides: Partial<EnvironmentState> = {}): EnvironmentState {
  return {
    name: 'production',
    reviewers: [],
    preventSelfReview: false,
    waitTimer: 0,
    branchPolicy: { protected_branches: false, custom_branch_policies: true },
    branchPolicies: [{ id: 1, name: 'main', type: 'branch' }],
    ...overrides,
  };
}

const state = githubState;

const wanted = (reviewers: Reviewer[]): GitHubWanted => ({
  environment: 'production',
  reviewers,
  variables: [],
  requiredChecks: [],
});

const environmentChanges = (s: GitHubState, reviewers: Reviewer[]) =>
  planGitHub(s, wanted(reviewers)).changes.filter((c) => c.kind === 'environment');

const noApproval =
  /^production deploys run without an approval step: environment production has no required reviewers/;

describe('required reviewers in the GitHub plan', () => {
  it('sets them with self-review prevented, sending type and id only, and names them in the plan', () => {
    const [change] = environmentChanges(state(), [alice, deployers]);
    expect(change).toMatchObject({
      create: true,
      body: {
        reviewers: [
          { type: 'User', id: 11 },
          { type: 'Team', id: 22 },
        ],
        prevent_self_review: true,
      },
    });
    expect(change?.kind === 'environment' && change.body.reviewers?.[0]).toEqual({ type: 'User', id: 11 });
    expect(change && describeGitHubChange(change)).toBe(
      '+ GitHub environment production: deployments from custom branch policies only; required reviewers alice, team/deployers, self-review prevented',
    );
    expect(planGitHub(state(), wanted([alice])).limits).toEqual([]);
  });

  it('plans nothing when the same reviewers (in any order) already review with self-review prevented', () => {
    const existing = environment({ reviewers: [deployers, alice], preventSelfReview: true });
    const plan = planGitHub(state({ environment: existing }), wanted([alice, deployers]));
    expect(plan.changes.filter((c) => c.kind === 'environment' || c.kind === 'branch-policy')).toEqual([]);
    expect(plan.limits).toEqual([]);
  });

  it.each([
    [
      'another set',
      environment({ reviewers: [bob], preventSelfReview: true }),
      '(was: required reviewers bob, self-review prevented)',
    ],
    [
      'self-review allowed',
      environment({ reviewers: [alice, deployers] }),
      '(was: required reviewers alice, team/deployers, self-review allowed)',
    ],
    ['no reviewers', environment(), '(was: no required reviewers)'],
  ])('changes %s with a ~ naming old and new', (_, existing, was) => {
    const [change] = environmentChanges(state({ environment: existing }), [alice, deployers]);
    expect(change && describeGitHubChange(change)).toBe(
      `~ GitHub environment production: deployments from custom branch policies only; required reviewers alice, team/deployers, self-review prevented ${was}`,
    );
  });

  it('leaves the reviewers as they are without --reviewer, and says nothing more when there are some', () => {
    const existing = environment({ reviewers: [bob], preventSelfReview: false });
    const plan = planGitHub(state({ environment: existing }), wanted([]));
    expect(plan.changes.filter((c) => c.kind === 'environment')).toEqual([]);
    expect(plan.limits).toEqual([]);
    // another change of the environment keeps them as they were
    const [change] = environmentChanges(state({ environment: { ...existing, branchPolicy: null } }), []);
    expect(change?.kind === 'environment' && change.body).toMatchObject({
      reviewers: [{ type: 'User', id: 33 }],
      prevent_self_review: false,
    });
    expect(change && describeGitHubChange(change)).toMatch(/; required reviewers bob, self-review allowed$/);
  });

  it.each([
    [
      'an organization',
      'Organization' as const,
      /--reviewer <login> \(a user\) or --reviewer <org>\/<team-slug> \(a team\)/,
    ],
    ['a user', 'User' as const, /up to 6 of --reviewer <login>: one of them then approves each deploy/],
  ])(
    'says that production deploys wait for nobody without reviewers, on a repository of %s',
    (_, ownerType, how) => {
      const plan = planGitHub(state({ ownerType }), wanted([]));
      expect(plan.limits).toEqual([expect.stringMatching(noApproval)]);
      expect(plan.limits[0]).toMatch(how);
    },
  );

  it('plans no reviewers on a private repository on GitHub Team, saying why instead of failing', () => {
    const plan = planGitHub(state({ private: true, plan: 'team' }), wanted([alice]));
    const [change] = plan.changes.filter((c) => c.kind === 'environment');
    expect(change?.kind === 'environment' && change.body.reviewers).toBeUndefined();
    expect(plan.limits).toEqual([
      expect.stringMatching(/private on GitHub team, where required reviewers need GitHub Enterprise/),
    ]);
  });

  it("puts --reviewer's refusals first in the plan's refusals, which block apply", () => {
    const plan = planGitHubSide(
      {
        domains: { previewDomain: 'preview.example.com' },
        target: {
          subscriptionId: '22222222-2222-2222-2222-222222222222',
          resourceGroup: 'rg',
          registry: 'archetypeacr',
          cluster: { resourceGroup: 'rg-aks', name: 'aks' },
          repository: 'team/archetype',
          identityNames: identityNames('archetype'),
          repositories: { production: 'archetype', preview: 'archetype-preview' },
        },
        tenantId: 't-1',
        github: state(),
        reviewers: { reviewers: [alice], refusals: ["--reviewer 'nobody': there is no GitHub user nobody"] },
      },
      { production: 'c-prod', preview: 'c-prev' },
    );
    expect(plan.refusals).toEqual(["--reviewer 'nobody': there is no GitHub user nobody"]);
    expect(blockers({ azure: {} as never, github: plan }, [])).toEqual(plan.refusals);
    expect(plan.changes[0]).toMatchObject({ kind: 'environment', reviewers: [alice] });
  });
});
