// `archetype-deploy setup` end to end: the built dist/setup.js in a child process against the ARM and GitHub
// stand-ins (test/fakes/azure-arm-setup.ts, github-setup-routes.ts) and the local API server as the AKS
// cluster, as a user runs it: plan → --yes → a second run with nothing to change → --teardown --yes; and a
// caller who may not assign roles. Asserted on what the stand-ins and the cluster hold and the requests made.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { builtInRoles } from '../../src/setup/plan.js';
import { clusterPath, registryPath, sub, writes } from '../azure/setup-fixture.js';
import { contributor } from '../fakes/azure-arm-setup.js';
import { deleteNamespace, testCluster } from '../helpers/cluster.js';
import { type StandIns, setupArgs, startStandIns } from '../helpers/setup-cli.js';

jest.setTimeout(120_000);

// each run its own app and namespace: rbac/'s cluster-scoped objects are named after the app
const app = `su${randomBytes(3).toString('hex')}`;
const namespace = `${app}-prod`;
const admin = testCluster();
const rbacApi = '/apis/rbac.authorization.k8s.io/v1';

// the registry's repositories keep the app's usual name (the app names differ per run for the cluster)
const argsFor = (app: string, namespace = `${app}-prod`) => [
  ...setupArgs(app, namespace),
  '--image-name',
  'archetype',
];
const args = argsFor(app, namespace);
// for the runs that change nothing: an app no earlier test made, so its namespace is not being deleted
const other = argsFor(`${app}x`);

// apply and teardown take ~10 s each: setup paces its GitHub writes a second apart, as GitHub asks
const githubWrites = (s: StandIns) => s.github.requests.filter((r) => r.method !== 'GET');
const lines = (text: string) => text.split('\n');

describe('archetype-deploy setup on an empty subscription and repository', () => {
  let s: StandIns;
  let before: ReturnType<StandIns['github']['settings']['snapshot']>;
  beforeAll(async () => {
    s = await startStandIns();
    before = s.github.settings.snapshot();
  });
  afterAll(async () => {
    await s.close();
    for (const path of [`clusterroles/${app}-deployer`, `clusterroles/${app}-preview`])
      await admin.request('DELETE', `${rbacApi}/${path}`).catch(() => undefined);
    await deleteNamespace(admin, namespace).catch(() => undefined);
  });
  beforeEach(() => {
    s.fake.requests.length = 0;
    s.github.requests.length = 0;
  });

  it('prints the plan and changes nothing', async () => {
    const { code, stdout, stderr } = await s.run(args);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines(stdout)).toEqual(
      expect.arrayContaining([
        'Setup plan for team/archetype:',
        '  + managed identity rg-archetype/id-archetype-production (production)',
        '  + managed identity rg-archetype/id-archetype-preview (preview)',
        '  + federated credential github-environment-production on the production identity: subject repo:team/archetype:environment:production, audience api://AzureADTokenExchange',
        '  + federated credential github-default-branch on the preview identity: subject repo:team/archetype:ref:refs/heads/main, audience api://AzureADTokenExchange',
        `  + role AcrPush for the production identity on ${registryPath}`,
        `  + role Azure Kubernetes Service Cluster User Role for the preview identity on ${clusterPath}`,
        '  + GitHub environment production: deployments from custom branch policies only',
        '  + deployment branch policy main on environment production',
        '  + variable AZURE_CLIENT_ID on the environment production = (client id of the new production identity)',
        '  + variable AZURE_PREVIEW_CLIENT_ID on the repository = (client id of the new preview identity)',
        `  + variable AZURE_TENANT_ID on the repository = ${s.fake.tenantId}`,
        '  + ruleset archetype-deploy on the default branch: pull request with 1 approving review, checks check',
        `  + variable PREVIEW_DOMAIN on the repository = ${app}.preview.localhost`,
        `  + Namespace/${namespace} (rbac/production.yaml)`,
        `  + ClusterRole/${app}-deployer (rbac/deployer.yaml)`,
        `  + RoleBinding/${namespace}/${app}-deployer (rbac/production.yaml)`,
        `  + ValidatingAdmissionPolicy/${app}-preview-namespaces (rbac/preview.yaml)`,
        'This was a plan; nothing changed. Run again with --yes to apply it.',
      ]),
    );
    expect(stdout).toMatch(/^Plan: \d+ to add, 0 to change, 0 to destroy\.$/m);
    // the dry-runs wrote nothing in the cluster
    expect(await admin.get(`${rbacApi}/clusterroles/${app}-deployer`)).toBeUndefined();
    expect(await admin.get(`/api/v1/namespaces/${namespace}`)).toBeUndefined();
    expect(stdout).toMatch(/^not done: registry .* is not in ABAC mode/m);
    expect(stdout).toMatch(
      /^not done: production deploys run without an approval step: .* --reviewer <login> \(a user\) or --reviewer <org>\/<team-slug> \(a team\)/m,
    );
    expect(writes(s.fake)).toEqual([]);
    expect(githubWrites(s)).toEqual([]);
    expect(s.fake.setup.identities).toEqual([]);
    expect(s.github.settings.snapshot()).toEqual(before);
  });

  it('--yes applies it: identities, federated credentials, role assignments, environment, variables', async () => {
    const { code, stdout, stderr } = await s.run([...args, '--yes']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Azure: 8 change(s) applied');
    const [production, preview] = s.fake.setup.identities;
    expect(s.fake.setup.identities.map((i) => [i.name, i.tags])).toEqual([
      ['id-archetype-production', { 'archetype-deploy-setup': 'team/archetype' }],
      ['id-archetype-preview', { 'archetype-deploy-setup': 'team/archetype' }],
    ]);
    expect([...(production?.credentials.values() ?? [])].map((c) => c.subject)).toEqual([
      'repo:team/archetype:environment:production',
    ]);
    expect([...(preview?.credentials.values() ?? [])].map((c) => c.subject)).toEqual([
      'repo:team/archetype:pull_request',
      'repo:team/archetype:ref:refs/heads/main',
    ]);
    const userRole = builtInRoles['Azure Kubernetes Service Cluster User Role'];
    expect(
      s.fake.setup.roleAssignments.map((a) => [a.scope, a.roleDefinitionId.split('/').pop(), a.principalId]),
    ).toEqual([
      [registryPath, builtInRoles.AcrPush, production?.principalId],
      [clusterPath, userRole, production?.principalId],
      [clusterPath, userRole, preview?.principalId],
    ]);
    const after = s.github.settings.snapshot();
    expect(after.environments).toEqual([
      expect.objectContaining({
        name: 'production',
        branchPolicy: { protected_branches: false, custom_branch_policies: true },
        branchPolicies: ['branch:main'],
        variables: { AZURE_CLIENT_ID: production?.clientId },
      }),
    ]);
    expect(after.variables).toEqual({
      ACR_NAME: 'archetypeacr',
      AKS_CLUSTER_NAME: 'aks-archetype',
      AKS_RESOURCE_GROUP: 'rg-aks',
      ARCHETYPE_DEPLOY_SETUP: expect.any(String),
      AZURE_PREVIEW_CLIENT_ID: preview?.clientId,
      AZURE_SUBSCRIPTION_ID: sub,
      AZURE_TENANT_ID: s.fake.tenantId,
      PREVIEW_DOMAIN: `${app}.preview.localhost`,
    });
    expect(after.rulesets.map((r) => r.name)).toEqual(['archetype-deploy']);
    // rbac/ in the cluster, applied as the caller (setup's field manager), bound to the new principals
    expect(stdout).toContain(`cluster: + ClusterRole/${app}-deployer (rbac/deployer.yaml)`);
    const binding = await admin.get<KubernetesObject & { subjects?: Array<{ name?: string }> }>(
      `${rbacApi}/namespaces/${namespace}/rolebindings/${app}-deployer`,
    );
    expect(binding?.subjects?.map((x) => x.name)).toEqual([production?.principalId]);
    expect(binding?.metadata?.managedFields?.map((f) => f.manager)).toEqual(['archetype-deploy-setup']);
    const previewBinding = await admin.get<KubernetesObject & { subjects?: Array<{ name?: string }> }>(
      `${rbacApi}/clusterrolebindings/${app}-preview`,
    );
    expect(previewBinding?.subjects?.map((x) => x.name)).toEqual([preview?.principalId]);
    // then checked: every SubjectAccessReview and federated subject as expected
    expect(stdout).toMatch(/^ {2}all \d+ checks ok$/m);
    expect(stdout).toMatch(
      new RegExp(`^  preview +nothing in production's namespace ${namespace} +ok `, 'm'),
    );
    expect(stdout).toMatch(
      /^ {2}production +signs in from deploy\.yml .* ok +subject repo:team\/archetype:environment:production/m,
    );
    // never a secret
    expect(s.github.requests.some((r) => /secrets/.test(r.path))).toBe(false);
  }, 60_000);

  it('a second run prints "nothing to change" and writes nothing, with --yes too', async () => {
    for (const extra of [[], ['--yes']]) {
      const { code, stdout, stderr } = await s.run([...args, ...extra]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(lines(stdout)).toContain('nothing to change');
      expect(stdout).not.toMatch(/^ {2}[+~-] /m);
      expect(stdout).toMatch(/^ {2}all \d+ checks ok$/m);
    }
    expect(writes(s.fake)).toEqual([]);
    expect(githubWrites(s)).toEqual([]);
  });

  it('--teardown prints what it would remove, and with --yes leaves both sides as they were', async () => {
    const planned = await s.run([...args, '--teardown']);
    expect(planned.code).toBe(0);
    expect(lines(planned.stdout)).toEqual(
      expect.arrayContaining([
        'Teardown plan for team/archetype:',
        '  - GitHub environment production (with its variables)',
        "  - variable ARCHETYPE_DEPLOY_SETUP (setup's record)",
        `  - ClusterRole/${app}-deployer (rbac/deployer.yaml)`,
        `  - RoleBinding/${namespace}/${app}-deployer (rbac/production.yaml)`,
        '  - managed identity id-archetype-production (tagged archetype-deploy-setup)',
        'This was a plan; nothing changed. Run again with --teardown --yes to remove it.',
      ]),
    );
    expect(lines(planned.stdout)).toContain(
      `kept: Namespace/${namespace} (rbac/production.yaml): production runs in it: delete it by hand if the app goes too`,
    );
    expect(writes(s.fake)).toEqual([]);
    expect(githubWrites(s)).toEqual([]);

    const { code, stdout, stderr } = await s.run([...args, '--teardown', '--yes']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Teardown complete/m);
    expect(stdout).toContain(`cluster: deleted ClusterRole/${app}-deployer (rbac/deployer.yaml)`);
    expect(await admin.get(`${rbacApi}/clusterroles/${app}-deployer`)).toBeUndefined();
    expect(await admin.get(`${rbacApi}/clusterrolebindings/${app}-preview`)).toBeUndefined();
    // production's namespace stays: the app may still run in it
    expect(await admin.get(`/api/v1/namespaces/${namespace}`)).toBeDefined();
    expect(s.fake.setup.identities).toEqual([]);
    expect(s.fake.setup.roleAssignments).toEqual([]);
    expect(s.github.settings.snapshot()).toEqual(before);

    const again = await s.run([...args, '--teardown']);
    expect(lines(again.stdout)).toContain('nothing to remove');
  }, 60_000);
});

// The team is of the repository's organization (team/archetype): a team of another organization cannot have
// access to the repository, and setup refuses one (test/github/setup-github-reviewers.test.ts).
describe('archetype-deploy setup --reviewer', () => {
  let s: StandIns;
  const reviewers = ['--reviewer', 'alice', '--reviewer', 'team/deployers'];
  // an app of its own: this one applies, so it tears down what it made
  const args = argsFor(`${app}r`);
  beforeAll(async () => {
    s = await startStandIns();
    s.github.settings.directory.addUser('alice', 101);
    s.github.settings.directory.addTeam('team', 'deployers', 202, 'Deployers');
  });
  afterAll(async () => {
    await s.run([...args, '--teardown', '--yes']);
    await s.close();
    await deleteNamespace(admin, `${app}r-prod`).catch(() => undefined);
  });
  beforeEach(() => {
    s.fake.requests.length = 0;
    s.github.requests.length = 0;
  });

  it('sets a user and a team as required reviewers of production, self-review prevented', async () => {
    const { code, stdout, stderr } = await s.run([...args, ...reviewers, '--yes']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines(stdout)).toContain(
      '  + GitHub environment production: deployments from custom branch policies only; required reviewers alice, team/deployers, self-review prevented',
    );
    expect(stdout).not.toMatch(/approval step/);
    expect(s.github.made('GET', /^\/(users\/alice|orgs\/team\/teams\/deployers)$/)).toHaveLength(2);
    const [production] = s.github.settings.snapshot().environments;
    expect(production).toMatchObject({
      name: 'production',
      preventSelfReview: true,
      reviewers: [
        { type: 'User', id: 101 },
        { type: 'Team', id: 202 },
      ],
    });
  }, 60_000);

  it('a second run, with the same reviewers or without the flag, has nothing to change', async () => {
    for (const extra of [reviewers, []]) {
      const { code, stdout, stderr } = await s.run([...args, ...extra, '--yes']);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(lines(stdout)).toContain('nothing to change');
      expect(stdout).not.toMatch(/approval step/);
    }
    expect(writes(s.fake)).toEqual([]);
    expect(githubWrites(s)).toEqual([]);
  });

  it('another set is a ~ change naming the reviewers before', async () => {
    s.github.settings.directory.addUser('carol', 103);
    const { code, stdout } = await s.run([...args, '--reviewer', 'carol']);
    expect(code).toBe(0);
    expect(lines(stdout)).toContain(
      '  ~ GitHub environment production: deployments from custom branch policies only; required reviewers carol, self-review prevented (was: required reviewers alice, team/deployers, self-review prevented)',
    );
    expect(githubWrites(s)).toEqual([]);
  });
});

describe('archetype-deploy setup for a caller who may not assign roles', () => {
  let s: StandIns;
  beforeAll(async () => {
    s = await startStandIns();
    // Contributor on the subscription: may create identities, not assign roles
    s.fake.setup.grants = [{ scope: `/subscriptions/${sub}`, ...contributor }];
  });
  afterAll(() => s.close());

  it.each([[[]], [['--yes']]])(
    'prints the plan and a refusal naming scope, right and who can grant it, changing nothing (%j)',
    async (extra) => {
      const { code, stdout, stderr } = await s.run([...other, ...extra]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      expect(lines(stdout)).toContain(
        '  + managed identity rg-archetype/id-archetype-production (production)',
      );
      for (const scope of [registryPath, clusterPath])
        expect(lines(stdout)).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^refused: on ${scope}: missing Microsoft\\.Authorization/roleAssignments/write \\(to assign .* there\\); an Owner, User Access Administrator or Role Based Access Control Administrator of that scope can grant it`,
            ),
          ),
        );
      expect(stdout).toMatch(/^setup changed nothing: 2 refusal\(s\) above/m);
      expect(writes(s.fake)).toEqual([]);
      expect(githubWrites(s)).toEqual([]);
      expect(s.fake.setup.identities).toEqual([]);
    },
  );
});

describe('archetype-deploy setup failures', () => {
  let s: StandIns;
  beforeAll(async () => {
    s = await startStandIns();
  });
  afterAll(() => s.close());

  it('a mistake on the command line: exit 2, the flag and the fix, no stack', async () => {
    const { code, stdout, stderr } = await s.run(['setup', '--subscription', 'x']);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(
      "archetype-deploy: --subscription 'x' is not a subscription id (a GUID like 22222222-2222-2222-2222-222222222222)\n",
    );
  });

  it('a registry that is not there: exit 1, what was read, the fix, no stack, nothing changed', async () => {
    const { code, stderr } = await s.run(other.map((a) => (a === 'archetypeacr' ? 'nosuchacr' : a)));
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^setup failed: reading registry .*\/registries\/nosuchacr: 404 ResourceNotFound: .*check --registry, --resource-group and --subscription\n$/,
    );
    expect(writes(s.fake)).toEqual([]);
    expect(s.github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('a --reviewer who is not on GitHub: the plan, a refusal naming them, no write at all', async () => {
    s.github.settings.directory.addUser('alice', 101);
    for (const extra of [[], ['--yes']]) {
      const { code, stdout, stderr } = await s.run([
        ...other,
        '--reviewer',
        'alice',
        '--reviewer',
        'nobody',
        ...extra,
      ]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      expect(lines(stdout)).toContain(
        "refused: --reviewer 'nobody': there is no GitHub user nobody; check the login (github.com/nobody)",
      );
      expect(stdout).toMatch(/^setup changed nothing: 1 refusal\(s\) above/m);
    }
    expect(s.github.made('GET', '/users/nobody')).toHaveLength(2);
    expect(writes(s.fake)).toEqual([]);
    expect(githubWrites(s)).toEqual([]);
    expect(s.fake.setup.identities).toEqual([]);
  });

  it('a GitHub caller without admin: the plan, and a refusal saying who can grant it', async () => {
    s.github.settings.seed({ permissions: { admin: false } });
    const { code, stdout } = await s.run(other);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^refused: you need admin on team\/archetype \(you have write\).*ask an owner of team\/archetype/m,
    );
    expect(s.github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

// docs/github-setup.md step 3's conditions, as the docs write them (APP_NAME=archetype)
function docsConditions(): string[] {
  const docs = readFileSync(new URL('../../docs/github-setup.md', import.meta.url), 'utf8');
  return [...docs.matchAll(/--condition "([^"]+)"/g)].map((m) =>
    (m[1] ?? '').replaceAll('$APP_NAME', 'archetype'),
  );
}

const kubelet = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const roleGuidOf = (a: { roleDefinitionId: string }) => a.roleDefinitionId.split('/').pop();
const seedKubelet = (s: StandIns) => {
  const cluster = s.fake.clusters[0];
  if (cluster) cluster.kubeletObjectId = kubelet;
};

describe('archetype-deploy setup on a registry in ABAC mode', () => {
  let s: StandIns;
  // an app of its own: these runs apply, so they tear down what they made
  const args = argsFor(`${app}a`);
  beforeAll(async () => {
    s = await startStandIns();
    const registry = s.fake.setup.registries[0];
    if (registry) registry.roleAssignmentMode = 'AbacRepositoryPermissions';
    seedKubelet(s);
  });
  afterAll(async () => {
    await s.run([...args, '--teardown', '--yes']);
    await s.close();
    await deleteNamespace(admin, `${app}a-prod`).catch(() => undefined);
  });

  it('grants each identity the Writer on its repository with the condition docs/github-setup.md step 3 writes', async () => {
    const planned = await s.run(args);
    expect(planned.code).toBe(0);
    expect(lines(planned.stdout)).toEqual(
      expect.arrayContaining([
        `  + role Container Registry Repository Writer for the production identity on ${registryPath}, only repository archetype (condition)`,
        `  + role Container Registry Repository Writer for the preview identity on ${registryPath}, only repository archetype-preview (condition)`,
        expect.stringMatching(
          /^ {2}\+ role Container Registry Repository Reader for the cluster's kubelet identity .*, only repository archetype and archetype-preview \(condition\): .*ImagePullBackOff/,
        ),
      ]),
    );
    expect(planned.stdout).not.toMatch(/AcrPush|not in ABAC mode/);

    const { code, stderr } = await s.run([...args, '--yes']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const [production, preview] = s.fake.setup.identities;
    const onRegistry = s.fake.setup.roleAssignments.filter((a) => a.scope === registryPath);
    expect(onRegistry.map((a) => [a.principalId, roleGuidOf(a), a.condition, a.conditionVersion])).toEqual([
      [
        production?.principalId,
        builtInRoles['Container Registry Repository Writer'],
        docsConditions()[0],
        '2.0',
      ],
      [
        preview?.principalId,
        builtInRoles['Container Registry Repository Writer'],
        docsConditions()[1],
        '2.0',
      ],
      [
        kubelet,
        builtInRoles['Container Registry Repository Reader'],
        expect.stringContaining("'archetype-preview'"),
        '2.0',
      ],
    ]);
    expect(docsConditions()).toHaveLength(2);

    s.fake.requests.length = 0;
    const again = await s.run([...args, '--yes']);
    expect(lines(again.stdout)).toContain('nothing to change');
    expect(writes(s.fake)).toEqual([]);

    // teardown takes the kubelet's repository-scoped Reader with the identities' roles
    const down = await s.run([...args, '--teardown', '--yes']);
    expect(down.code).toBe(0);
    expect(s.fake.setup.roleAssignments).toEqual([]);
    // nothing kept in Azure; in the cluster, production's namespace and the previews' shared pod policies
    expect(down.stdout).not.toMatch(
      /^kept: (?!Namespace\/|ValidatingAdmissionPolicy(Binding)?\/archetype-deploy-preview-pods-)/m,
    );
  }, 90_000);
});

describe('archetype-deploy setup --switch-registry-to-abac', () => {
  let s: StandIns;
  // an app of its own: these runs apply, so they tear down what they made
  const args = argsFor(`${app}s`);
  const user = '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918';
  beforeAll(async () => {
    s = await startStandIns();
    seedKubelet(s);
    // --attach-acr's AcrPull for the kubelet, and a person's AcrPush inherited from the resource group
    s.fake.setup.roleAssignments.push(
      {
        scope: registryPath,
        name: '3b1f0c9e-0000-4000-8000-000000000001',
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d`,
        principalId: kubelet,
        principalType: 'ServicePrincipal',
      },
      {
        scope: `/subscriptions/${sub}/resourceGroups/rg-archetype`,
        name: '3b1f0c9e-0000-4000-8000-000000000002',
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoles.AcrPush}`,
        principalId: user,
        principalType: 'User',
      },
    );
  });
  afterAll(async () => {
    await s.run([...args, '--teardown', '--yes']);
    await s.close();
    await deleteNamespace(admin, `${app}s-prod`).catch(() => undefined);
  });

  it('without the flag keeps AcrPush for production and says how previews get a push right', async () => {
    const { code, stdout } = await s.run(args);
    expect(code).toBe(0);
    expect(lines(stdout)).toContain(`  + role AcrPush for the production identity on ${registryPath}`);
    expect(stdout).toMatch(/^not done: registry .* is not in ABAC mode.*--switch-registry-to-abac/m);
    expect(stdout).not.toMatch(/kubelet/);
  });

  it('re-grants every AcrPull/AcrPush holder before the PATCH, then the repository roles; a re-run changes nothing', async () => {
    const flagged = [...args, '--switch-registry-to-abac'];
    const planned = await s.run(flagged);
    expect(planned.code).toBe(0);
    expect(lines(planned.stdout)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          `^  \\+ role Container Registry Repository Reader for the cluster's kubelet identity \\(principal ${kubelet}\\) on .*, all repositories \\(no condition\\): it holds AcrPull on ${registryPath}`,
        ),
        `  + role Container Registry Repository Writer for principal ${user} (User) on ${registryPath}, all repositories (no condition): it holds AcrPush on /subscriptions/${sub}/resourceGroups/rg-archetype, which ABAC mode no longer honours`,
        expect.stringMatching(
          `^  ~ registry ${registryPath}: role assignment mode LegacyRegistryPermissions -> AbacRepositoryPermissions`,
        ),
      ]),
    );
    expect(writes(s.fake)).toEqual([]);

    s.fake.requests.length = 0;
    const { code, stderr } = await s.run([...flagged, '--yes']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(s.fake.setup.registries[0]?.roleAssignmentMode).toBe('AbacRepositoryPermissions');
    const order = writes(s.fake)
      .filter((r) => r.method === 'PATCH' || /roleAssignments\//.test(r.path))
      .map((r) =>
        r.method === 'PATCH'
          ? `PATCH ${JSON.stringify(JSON.parse(r.body).properties)}`
          : `${JSON.parse(r.body).properties.principalId} ${JSON.parse(r.body).properties.condition ? 'conditioned' : 'all repositories'}`,
      );
    const [production, preview] = s.fake.setup.identities;
    expect(order).toEqual([
      `${kubelet} all repositories`,
      `${user} all repositories`,
      'PATCH {"roleAssignmentMode":"AbacRepositoryPermissions"}',
      `${production?.principalId} conditioned`,
      `${preview?.principalId} conditioned`,
      `${production?.principalId} all repositories`, // the Cluster User Role
      `${preview?.principalId} all repositories`,
    ]);

    s.fake.requests.length = 0;
    const again = await s.run(flagged);
    expect(lines(again.stdout)).toContain('nothing to change');
    expect(writes(s.fake)).toEqual([]);
  }, 60_000);

  it('teardown keeps the re-grants and the ABAC mode, and says so', async () => {
    const { code, stdout } = await s.run([...args, '--teardown', '--yes']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^kept: registry .* stays in ABAC repository permissions mode: teardown never switches it back/m,
    );
    expect(s.fake.setup.registries[0]?.roleAssignmentMode).toBe('AbacRepositoryPermissions');
    expect(s.fake.setup.roleAssignments.map((a) => [a.principalId, a.description ?? ''])).toEqual([
      [kubelet, ''],
      [user, ''],
      [kubelet, expect.stringMatching(/re-granted for the switch/)],
      [user, expect.stringMatching(/re-granted for the switch/)],
    ]);
  }, 60_000);
});

describe('archetype-deploy setup for a kubelet that cannot pull', () => {
  let s: StandIns;
  // an app of its own: these runs apply, so they tear down what they made
  const args = argsFor(`${app}k`);
  beforeAll(async () => {
    s = await startStandIns();
    seedKubelet(s);
  });
  afterAll(async () => {
    await s.run([...args, '--teardown', '--yes']);
    await s.close();
    await deleteNamespace(admin, `${app}k-prod`).catch(() => undefined);
  });

  it('plans its AcrPull, saying why, and grants it', async () => {
    const planned = await s.run(args);
    expect(lines(planned.stdout)).toContainEqual(
      `  + role AcrPull for the cluster's kubelet identity (principal ${kubelet}) on ${registryPath}: the nodes pull the app's images as the kubelet identity, which holds no pull right on the registry: without it every pod stays in ImagePullBackOff`,
    );
    const { code, stderr } = await s.run([...args, '--yes']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(
      s.fake.setup.roleAssignments
        .filter((a) => a.principalId === kubelet)
        .map((a) => [a.scope, roleGuidOf(a), a.principalType]),
    ).toEqual([[registryPath, '7f951dda-4ed3-4680-a7ca-43fe172d538d', 'ServicePrincipal']]);
    const again = await s.run(args);
    expect(lines(again.stdout)).toContain('nothing to change');
  }, 60_000);
});
