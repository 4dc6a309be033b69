import { setupGitHubStandIn } from '../helpers/setup-github.js';

// Which OIDC subjects setup plans the federated credentials for, from what GitHub answers:
// actions/get-custom-oidc-sub-claim-for-repo (use_default, include_claim_keys, use_immutable_subject,
// sub_claim_prefix) and, for a repository that defers to its organization,
// actions/get-oidc-custom-sub-template-for-org.

const token = 'ghu_setupoidctoken';
const { github, m, connect } = setupGitHubStandIn(token, { seed: false });

async function planFor(oidcClaimKeys?: string[]) {
  const gh = await connect();
  const state = await m.read.readGitHubState(gh, 'production');
  const plan = m.plan.planGitHub(state, {
    environment: 'production',
    reviewers: [],
    variables: [],
    requiredChecks: ['ci'],
    oidcClaimKeys,
  });
  return { state, plan };
}

function productionSubject(plan: import('../../src/setup/github/plan.js').GitHubPlan): string | undefined {
  if (!plan.template) return undefined;
  return m.federation.wantedCredentials({
    repository: plan.subjectRepository,
    defaultBranch: plan.defaultBranch,
    template: plan.template,
    audience: 'api://AzureADTokenExchange',
    claims: { job_workflow_ref: 'team/archetype/.github/workflows/deploy.yml@refs/heads/main' },
  })[0]?.subject;
}

describe('the OIDC subjects setup plans for', () => {
  it('the default template: repo:owner/repo:environment:production', async () => {
    github.settings.seed();
    const { plan } = await planFor();
    expect(productionSubject(plan)).toBe('repo:team/archetype:environment:production');
  });

  it('immutable subjects: the repository part GitHub answers in sub_claim_prefix (owner@id/repo@id)', async () => {
    github.settings.seed({ immutableSubject: true });
    const { plan } = await planFor();
    expect(plan.subjectRepository).toBe('team@1/archetype@1296269');
    expect(productionSubject(plan)).toBe('repo:team@1/archetype@1296269:environment:production');
  });

  it("the organization's template when the repository defers to it (use_default false, no keys)", async () => {
    github.settings.seed({
      oidc: { use_default: false },
      orgOidcClaimKeys: ['repo', 'context', 'job_workflow_ref'],
    });
    const { state, plan } = await planFor();
    expect(state.oidcTemplate).toEqual({ use_default: false });
    expect(plan.template).toEqual({
      use_default: false,
      include_claim_keys: ['repo', 'context', 'job_workflow_ref'],
    });
    expect(productionSubject(plan)).toBe(
      'repo:team/archetype:environment:production:job_workflow_ref:team/archetype/.github/workflows/deploy.yml@refs/heads/main',
    );
    expect(github.made('GET', '/orgs/team/actions/oidc/customization/sub')).toHaveLength(1);
  });

  it("refuses when the organization's template cannot be read, unless setup is told the keys to set", async () => {
    github.settings.seed({ oidc: { use_default: false }, orgOwner: false });
    const unknown = await planFor();
    expect(unknown.plan.template).toBeUndefined();
    expect(unknown.plan.refusals).toEqual([
      expect.stringMatching(
        /follows organization team's OIDC subject template, which this token cannot read/,
      ),
    ]);
    const told = await planFor(['repo', 'context', 'job_workflow_ref']);
    expect(told.plan.refusals).toEqual([]);
    expect(told.plan.changes).toContainEqual({
      kind: 'oidc-template',
      template: { use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] },
      current: { use_default: false },
    });
  });
});
