import { setupGitHubStandIn } from '../helpers/setup-github.js';

// What setup's GitHub plan says where the repository's plan limits it (a private repository on GitHub Free:
// no environments, no rulesets; on Team: no required reviewers), how it reads paged and existing settings,
// and the stand-in's answers to mistakes, as GitHub's REST description documents them for each operation.

const token = 'ghu_setuplimitstoken';
const { github, m, connect } = setupGitHubStandIn(token, { seed: true });

async function planNow(requiredChecks = ['ci']) {
  const gh = await connect();
  const state = await m.read.readGitHubState(gh, 'production');
  const plan = m.plan.planGitHub(state, {
    environment: 'production',
    reviewers: [{ type: 'Team', id: 3 }],
    variables: m.variables.wantedVariables({
      tenantId: 't-1',
      subscriptionId: '22222222-2222-2222-2222-222222222222',
      registry: 'archetypeacr',
      resourceGroup: 'rg',
      clusterName: 'aks',
      clientIds: { production: 'c-prod', preview: 'c-prev' },
      previewDomain: 'preview.example.com',
    }),
    requiredChecks,
  });
  return { gh, state, plan };
}

const kinds = (plan: { changes: Array<{ kind: string }> }) => [...new Set(plan.changes.map((c) => c.kind))];

describe("the plan's limits", () => {
  it.each([
    ['whose owner setup can read (orgs/get plan.name = free)', true],
    ['whose owner it cannot read (repos/get-repo-rulesets answers 403 "Upgrade to GitHub Pro")', false],
  ])(
    'states them for a private repository on GitHub Free %s, and plans no environment or ruleset',
    async (_, orgOwner) => {
      github.settings.seed({ private: true, plan: 'free', orgOwner });
      const { gh, state, plan } = await planNow();
      expect(state.rulesetsAvailable).toBe(false);
      expect(state.environment).toBeUndefined();
      expect(kinds(plan)).toEqual(['variable']);
      expect(plan.changes.every((c) => c.kind === 'variable' && c.variable.environment === undefined)).toBe(
        true,
      );
      expect(plan.limits).toEqual([
        expect.stringMatching(
          /^team\/archetype is private and its owner is on GitHub Free, .*make the repository public, or move the owner to GitHub Pro or Team/,
        ),
      ]);
      const [rulesets] = github.made('GET', '/repos/team/archetype/rulesets');
      expect(rulesets).toBeDefined();
      await m.apply.applyGitHubPlan(gh, state, plan);
      expect(
        github.requests.filter((r) => r.method !== 'GET' && /environments|rulesets/.test(r.path)),
      ).toEqual([]);
    },
  );

  it('plans the environment without required reviewers on a private repository on GitHub Team, saying why', async () => {
    github.settings.seed({ private: true, plan: 'team' });
    const { plan } = await planNow();
    expect(kinds(plan)).toEqual(['environment', 'branch-policy', 'variable', 'ruleset']);
    const env = plan.changes.find((c) => c.kind === 'environment');
    expect(env?.kind === 'environment' && env.body.reviewers).toBeUndefined();
    expect(plan.limits).toEqual([
      expect.stringMatching(/private on GitHub team, where required reviewers need GitHub Enterprise/),
    ]);
  });

  it('plans reviewers on a private repository whose plan it cannot read, saying GitHub may refuse them', async () => {
    github.settings.seed({ private: true, plan: 'enterprise', orgOwner: false });
    const { state, plan } = await planNow();
    expect(state.plan).toBeUndefined();
    const env = plan.changes.find((c) => c.kind === 'environment');
    expect(env?.kind === 'environment' && env.body.reviewers).toEqual([{ type: 'Team', id: 3 }]);
    expect(plan.limits).toEqual([expect.stringMatching(/cannot read the plan of team/)]);
  });
});

describe('reading existing settings', () => {
  it('reads every page of the repository variables (actions/list-repo-variables, 30 a page)', async () => {
    for (let i = 0; i < 35; i++) github.settings.variables.set(`VAR_${i}`, String(i));
    const { state } = await planNow();
    expect([...state.variables.keys()].filter((k) => k.startsWith('/VAR_'))).toHaveLength(35);
    expect(github.made('GET', '/repos/team/archetype/actions/variables').map((r) => r.query.page)).toEqual([
      undefined,
      '2',
    ]);
  });

  it("updates setup's ruleset when its checks differ (repos/update-repo-ruleset), then plans nothing", async () => {
    const first = await planNow(['ci']);
    await m.apply.applyGitHubPlan(first.gh, first.state, first.plan);
    const { gh, state, plan } = await planNow(['ci', 'check-dist']);
    const id = github.settings.rulesets.list[0]?.id;
    expect(plan.changes).toEqual([expect.objectContaining({ kind: 'ruleset', id })]);
    await m.apply.applyGitHubPlan(gh, state, plan);
    expect(github.made('PUT', `/repos/team/archetype/rulesets/${id}`)).toHaveLength(1);
    expect(github.settings.rulesets.list).toHaveLength(1);
    expect((await planNow(['ci', 'check-dist'])).plan.changes).toEqual([]);
  });

  it('moves an environment limited to protected branches to the default branch only', async () => {
    github.settings.addEnvironment('production', {
      branchPolicy: { protected_branches: true, custom_branch_policies: false },
    });
    const { plan } = await planNow();
    expect(plan.changes.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: 'environment', create: false }),
      { kind: 'branch-policy', environment: 'production', branch: 'main' },
    ]);
  });
});

describe("the stand-in's answers to mistakes, as GitHub documents them", () => {
  const repo = { owner: 'team', repo: 'archetype' };
  const status = async (request: Promise<unknown>) =>
    request.then(
      () => 'ok',
      (error: { status?: number; response?: { data?: { message?: string } } }) =>
        `${error.status} ${error.response?.data?.message}`,
    );

  it('actions/create-repo-variable: 409 for a name that exists', async () => {
    const { octokit } = await connect();
    await octokit.rest.actions.createRepoVariable({ ...repo, name: 'A', value: '1' });
    expect(await status(octokit.rest.actions.createRepoVariable({ ...repo, name: 'A', value: '2' }))).toBe(
      '409 Already exists - Variable already exists',
    );
  });

  it('repos/create-deployment-branch-policy: 404 unless the environment has custom branch policies', async () => {
    const { octokit } = await connect();
    await octokit.rest.repos.createOrUpdateEnvironment({ ...repo, environment_name: 'production' });
    expect(
      await status(
        octokit.rest.repos.createDeploymentBranchPolicy({
          ...repo,
          environment_name: 'production',
          name: 'main',
        }),
      ),
    ).toBe('404 Not Found');
  });

  it('repos/create-or-update-environment: 422 when protected_branches equals custom_branch_policies', async () => {
    const { octokit } = await connect();
    expect(
      await status(
        octokit.rest.repos.createOrUpdateEnvironment({
          ...repo,
          environment_name: 'production',
          deployment_branch_policy: { protected_branches: true, custom_branch_policies: true },
        }),
      ),
    ).toMatch(/^422 /);
  });

  it('actions/get-github-actions-default-workflow-permissions-repository: 403 for a caller without admin', async () => {
    github.settings.seed({ permissions: { admin: false } });
    const { octokit } = await connect();
    expect(
      await status(octokit.rest.actions.getGithubActionsDefaultWorkflowPermissionsRepository(repo)),
    ).toBe('403 Must have admin rights to Repository.');
  });
});

describe('errors that say what to do', () => {
  it('names a repository the token cannot see', async () => {
    const gh = await m.connect.connectSetupGitHub(
      token,
      { owner: 'team', repo: 'nope' },
      { baseUrl: github.url },
    );
    await expect(m.read.readGitHubState(gh, 'production')).rejects.toThrow(
      /reading the repository on team\/nope failed \(404\): Not Found; there is no repository team\/nope the token can see: check --repository/,
    );
  });

  it('names a token GitHub does not accept', async () => {
    const gh = await m.connect.connectSetupGitHub(
      'ghu_wrong',
      { owner: 'team', repo: 'archetype' },
      { baseUrl: github.url },
    );
    await expect(m.read.readGitHubState(gh, 'production')).rejects.toThrow(
      /failed \(401\): Bad credentials; the token is not valid: sign in again/,
    );
  });

  it('asks for a token when there is none', async () => {
    await expect(m.connect.connectSetupGitHub('', { owner: 'team', repo: 'archetype' })).rejects.toThrow(
      /no GitHub token: set GITHUB_TOKEN/,
    );
  });
});

describe('a failure part way', () => {
  it('stops at the refused change, names the fix, and keeps the record of what it made for teardown', async () => {
    github.settings.seed({ canApprovePullRequestReviews: true, workflowPermissionsLocked: true });
    const before = github.settings.snapshot();
    const { gh, state, plan } = await planNow();
    await expect(m.apply.applyGitHubPlan(gh, state, plan)).rejects.toThrow(
      /turning off "Allow GitHub Actions to create and approve pull requests" on team\/archetype failed \(409\); the organization team does not let repositories change it: an owner of team turns off .* \(after 10 of 12 changes; run setup again to plan the rest\)/,
    );
    const made = await m.read.readGitHubState(gh, 'production');
    expect(made.record.createdEnvironment).toBe('production');
    expect(made.record.variables).toHaveLength(8);
    const teardown = await import('../../src/setup/github/teardown.js');
    await teardown.applyTeardown(gh, teardown.planTeardown(made));
    expect(github.settings.snapshot()).toEqual(before);
  });

  it('refuses more than six required reviewers', async () => {
    const gh = await connect();
    const state = await m.read.readGitHubState(gh, 'production');
    const reviewers = Array.from({ length: 7 }, (_, id) => ({ type: 'User' as const, id }));
    expect(() =>
      m.plan.planGitHub(state, { environment: 'production', reviewers, variables: [], requiredChecks: [] }),
    ).toThrow(/7 required reviewers given for environment production; GitHub takes at most 6/);
  });
});
