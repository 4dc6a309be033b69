import { setupGitHubStandIn } from '../helpers/setup-github.js';

// The GitHub side of `archetype-deploy setup` (src/setup/github) through real octokit against the GitHub
// stand-in, whose settings routes follow GitHub's REST description: repos/get,
// actions/get-custom-oidc-sub-claim-for-repo, repos/get-environment, repos/list-deployment-branch-policies,
// actions/list-repo-variables, actions/list-environment-variables,
// actions/get-github-actions-default-workflow-permissions-repository, repos/get-repo-rulesets, and the writes
// repos/create-or-update-environment, repos/create-deployment-branch-policy, actions/create-*-variable,
// actions/set-github-actions-default-workflow-permissions-repository, repos/create-repo-ruleset,
// actions/set-custom-oidc-sub-claim-for-repo. Asserted on the stand-in's state and recorded requests.

const token = 'ghu_setuptesttoken';
const { github, m, connect } = setupGitHubStandIn(token, { seed: true });

function wanted(overrides: Partial<import('../../src/setup/github/plan.js').GitHubWanted> = {}) {
  return {
    environment: 'production',
    reviewers: [{ type: 'User' as const, id: 7, name: 'octocat' }],
    variables: m.variables.wantedVariables({
      tenantId: 't-1',
      subscriptionId: '22222222-2222-2222-2222-222222222222',
      registry: 'archetypeacr',
      resourceGroup: 'rg',
      clusterName: 'aks',
      clientIds: { production: 'c-prod', preview: 'c-prev' },
      previewDomain: 'preview.example.com',
    }),
    requiredChecks: ['ci'],
    oidcClaimKeys: ['repo', 'context', 'job_workflow_ref'],
    ...overrides,
  };
}

async function planNow(want = wanted()) {
  const gh = await connect();
  const state = await m.read.readGitHubState(gh, 'production');
  return { gh, state, plan: m.plan.planGitHub(state, want) };
}

const writes = () => github.requests.filter((r) => r.method !== 'GET');

describe('setup on GitHub: plan, apply, plan again', () => {
  it('plans every change on an empty repository, applies them, and then plans nothing', async () => {
    github.settings.seed({ defaultBranch: 'master', canApprovePullRequestReviews: true });
    const { gh, state, plan } = await planNow();
    expect(writes()).toEqual([]);
    expect(plan.changes.map((c) => c.kind)).toEqual([
      'environment',
      'branch-policy',
      ...Array(8).fill('variable'),
      'workflow-permissions',
      'ruleset',
      'oidc-template',
    ]);
    expect(plan.refusals).toEqual([]);
    expect(plan.limits).toEqual([]);
    expect(m.render.renderGitHubPlan(plan)).toContain(
      '+ GitHub environment production: deployments from custom branch policies only; required reviewers octocat, self-review prevented',
    );

    await m.apply.applyGitHubPlan(gh, state, plan);
    // repos/create-or-update-environment takes type and id only
    const [put] = github.made('PUT', '/repos/team/archetype/environments/production');
    expect(put?.body).toMatchObject({ reviewers: [{ type: 'User', id: 7 }], prevent_self_review: true });
    const after = github.settings.snapshot();
    expect(after.environments).toEqual([
      {
        name: 'production',
        waitTimer: 0,
        preventSelfReview: true,
        reviewers: [{ type: 'User', id: 7 }],
        branchPolicy: { protected_branches: false, custom_branch_policies: true },
        branchPolicies: ['branch:master'],
        variables: { AZURE_CLIENT_ID: 'c-prod' },
      },
    ]);
    expect(after.variables).toMatchObject({
      AZURE_PREVIEW_CLIENT_ID: 'c-prev',
      AZURE_TENANT_ID: 't-1',
      ACR_NAME: 'archetypeacr',
      AKS_RESOURCE_GROUP: 'rg',
      AKS_CLUSTER_NAME: 'aks',
    });
    expect(after.canApprovePullRequestReviews).toBe(false);
    expect(after.oidc).toEqual({
      use_default: false,
      include_claim_keys: ['repo', 'context', 'job_workflow_ref'],
    });
    expect(after.rulesets).toEqual([
      {
        name: 'archetype-deploy',
        enforcement: 'active',
        rules: [
          expect.objectContaining({
            type: 'pull_request',
            parameters: expect.objectContaining({ required_approving_review_count: 1 }),
          }),
          {
            type: 'required_status_checks',
            parameters: {
              strict_required_status_checks_policy: false,
              required_status_checks: [{ context: 'ci' }],
            },
          },
        ],
      },
    ]);
    // secrets are never written
    expect(github.requests.some((r) => /secrets/.test(r.path))).toBe(false);

    github.requests.length = 0;
    const again = await planNow();
    expect(again.plan.changes).toEqual([]);
    expect(m.render.renderGitHubPlan(again.plan)).toEqual(['GitHub: nothing to change']);
    await m.apply.applyGitHubPlan(again.gh, again.state, again.plan);
    expect(writes()).toEqual([]);
  });

  it("puts the repository's real default branch (master, not an assumed main) in the environment's branch policy", async () => {
    github.settings.seed({ defaultBranch: 'master' });
    const { gh, state, plan } = await planNow();
    expect(state.defaultBranch).toBe('master');
    expect(plan.changes).toContainEqual({
      kind: 'branch-policy',
      environment: 'production',
      branch: 'master',
    });
    await m.apply.applyGitHubPlan(gh, state, plan);
    const [create] = github.made(
      'POST',
      '/repos/team/archetype/environments/production/deployment-branch-policies',
    );
    expect(create?.body).toEqual({ name: 'master', type: 'branch' });
    const [put] = github.made('PUT', '/repos/team/archetype/environments/production');
    expect(put?.body).toMatchObject({
      deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
    });
    expect(github.settings.snapshot().environments[0]?.branchPolicies).toEqual(['branch:master']);
  });
});

describe('setup on GitHub: what it reads, and what it refuses', () => {
  it('reads a custom OIDC subject template and hands it to subjects.ts for the credentials', async () => {
    const template = { use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] };
    github.settings.seed({ defaultBranch: 'master', oidc: template });
    const { state, plan } = await planNow(wanted({ oidcClaimKeys: undefined }));
    expect(state.oidcTemplate).toEqual(template);
    expect(plan.template).toEqual(template);
    expect(plan.changes.some((c) => c.kind === 'oidc-template')).toBe(false);
    if (!plan.template) throw new Error('expected the template');
    const [production] = m.federation.wantedCredentials({
      repository: plan.subjectRepository,
      defaultBranch: plan.defaultBranch,
      template: plan.template,
      audience: 'api://AzureADTokenExchange',
      claims: { job_workflow_ref: 'team/archetype/.github/workflows/deploy.yml@refs/heads/master' },
    });
    expect(production?.subject).toBe(
      'repo:team/archetype:environment:production:job_workflow_ref:team/archetype/.github/workflows/deploy.yml@refs/heads/master',
    );
    // asked for the same keys: nothing to change; for others: the change, from the template read
    expect((await planNow()).plan.changes.some((c) => c.kind === 'oidc-template')).toBe(false);
    const other = await planNow(wanted({ oidcClaimKeys: ['repository_owner_id', 'context'] }));
    expect(other.plan.changes).toContainEqual({
      kind: 'oidc-template',
      template: { use_default: false, include_claim_keys: ['repository_owner_id', 'context'] },
      current: template,
    });
  });

  it('refuses a caller without admin, naming the right and who grants it, and writes nothing', async () => {
    github.settings.seed({ permissions: { admin: false, maintain: false, push: true } });
    const { gh, state, plan } = await planNow();
    expect(state.permissions.admin).toBe(false);
    expect(plan.changes.length).toBeGreaterThan(0);
    expect(plan.refusals).toEqual([
      expect.stringMatching(
        /^you need admin on team\/archetype \(you have write\): .*ask an owner of team\/archetype/,
      ),
    ]);
    await expect(m.apply.applyGitHubPlan(gh, state, plan)).rejects.toThrow(
      /you need admin on team\/archetype/,
    );
    await expect(m.teardown.applyTeardown(gh, m.teardown.planTeardown(state))).rejects.toThrow(
      /you need admin on team\/archetype/,
    );
    expect(writes()).toEqual([]);
    // the admin-only read is not even attempted
    expect(github.made('GET', '/actions/permissions/workflow')).toEqual([]);
  });

  it('names the call, the status and the fix when GitHub refuses a write', async () => {
    const { gh, state, plan } = await planNow();
    // the caller loses admin between plan and apply: GitHub answers 403 "Must have admin rights"
    github.settings.permissions.admin = false;
    await expect(m.apply.applyGitHubPlan(gh, state, plan)).rejects.toThrow(
      /GitHub API: creating environment production on team\/archetype failed \(403\): Must have admin rights to Repository\.; setup needs admin on team\/archetype .*ask an owner .*after 0 of 12 changes/,
    );
    expect(github.settings.snapshot().environments).toEqual([]);
  });
});

describe('teardown', () => {
  it('leaves an empty repository as it was', async () => {
    github.settings.seed({ defaultBranch: 'master', canApprovePullRequestReviews: true });
    const before = github.settings.snapshot();
    const { gh, state, plan } = await planNow();
    await m.apply.applyGitHubPlan(gh, state, plan);
    expect(github.settings.snapshot()).not.toEqual(before);

    const made = await m.read.readGitHubState(gh, 'production');
    const teardown = m.teardown.planTeardown(made);
    expect(teardown.steps.map(m.teardown.describeTeardownStep)).toEqual([
      '~ OIDC subject template back to the default',
      '- ruleset archetype-deploy',
      '~ "Allow GitHub Actions to create and approve pull requests" back on',
      ...['AZURE_PREVIEW_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_SUBSCRIPTION_ID', 'ACR_NAME']
        .concat(['AKS_RESOURCE_GROUP', 'AKS_CLUSTER_NAME', 'PREVIEW_DOMAIN'])
        .map((name) => `- variable ${name} on the repository`),
      '- GitHub environment production (with its variables)',
      "- variable ARCHETYPE_DEPLOY_SETUP (setup's record)",
    ]);
    await m.teardown.applyTeardown(gh, teardown);
    expect(github.settings.snapshot()).toEqual(before);
  });

  it("puts back what it changed and keeps what was there: an existing environment, others' variables and rulesets", async () => {
    github.settings.seed({ defaultBranch: 'master', canApprovePullRequestReviews: true });
    const env = github.settings.addEnvironment('production', { waitTimer: 5 });
    env.variables.set('KEEP', 'mine');
    github.settings.variables.set('ACR_NAME', 'oldacr');
    github.settings.variables.set('OTHER', 'x');
    github.settings.rulesets.list.push({
      id: 1,
      name: 'theirs',
      target: 'branch',
      enforcement: 'active',
      conditions: { ref_name: { include: ['~ALL'], exclude: [] } },
      rules: [{ type: 'deletion' }],
      bypass_actors: [],
    });
    const before = github.settings.snapshot();

    const { gh, state, plan } = await planNow();
    expect(plan.changes).toContainEqual(
      expect.objectContaining({
        kind: 'environment',
        create: false,
        body: expect.objectContaining({ wait_timer: 5 }),
      }),
    );
    expect(plan.changes).toContainEqual({
      kind: 'variable',
      variable: { name: 'ACR_NAME', value: 'archetypeacr', current: 'oldacr' },
    });
    await m.apply.applyGitHubPlan(gh, state, plan);
    expect((await planNow()).plan.changes).toEqual([]);

    const made = await m.read.readGitHubState(gh, 'production');
    await m.teardown.applyTeardown(gh, m.teardown.planTeardown(made));
    expect(github.settings.snapshot()).toEqual(before);
    expect(github.made('DELETE', '/repos/team/archetype/environments/production')).toEqual([]);
    expect(github.made('DELETE', '/rulesets/1')).toEqual([]);
  });

  it('does nothing on a repository setup never touched', async () => {
    const gh = await connect();
    const teardown = m.teardown.planTeardown(await m.read.readGitHubState(gh, 'production'));
    expect(teardown.steps).toEqual([]);
    await m.teardown.applyTeardown(gh, teardown);
    expect(writes()).toEqual([]);
  });
});
