// The registry's rights in setup's plan, pure: ABAC repository conditions as docs/github-setup.md step 3
// writes them, the kubelet's pull right, and --switch-registry-to-abac's re-grants before the switch.
import { conflictingGrant, planRoles, type RoleAssignment, roleDefinitionId } from '../../src/setup/plan.js';
import { renderPlan } from '../../src/setup/print.js';
import { type RoleInput, repositoryCondition, wantedRoles } from '../../src/setup/registry-roles.js';

const sub = '22222222-2222-2222-2222-222222222222';
const group = `/subscriptions/${sub}/resourceGroups/rg`;
const registryId = `${group}/providers/Microsoft.ContainerRegistry/registries/acr`;
const clusterId = `${group}/providers/Microsoft.ContainerService/managedClusters/aks`;
const principals = { production: 'p-1', preview: 'v-1' };
const assignment = (
  principalId: string,
  role: Parameters<typeof roleDefinitionId>[1],
  scope = registryId,
  extra: Partial<RoleAssignment> = {},
): RoleAssignment => ({ scope, roleDefinitionId: roleDefinitionId(sub, role), principalId, ...extra });

const input = (over: Partial<RoleInput> = {}): RoleInput => ({
  subscriptionId: sub,
  registryId,
  registryAbac: true,
  clusterId,
  principals,
  repositories: { production: 'archetype', preview: 'archetype-preview' },
  kubelet: { principalId: 'k-1', assignments: [] },
  switchToAbac: false,
  registryAssignments: [],
  ...over,
});

// docs/github-setup.md step 3, with APP_NAME=archetype
const docsCondition = (repository: string) =>
  `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/write'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/write'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase '${repository}'))`;

describe('repositoryCondition', () => {
  it("is docs/github-setup.md step 3's condition for the Writer, and names every repository for the Reader", () => {
    expect(repositoryCondition('Container Registry Repository Writer', ['archetype'])).toBe(
      docsCondition('archetype'),
    );
    expect(repositoryCondition('Container Registry Repository Reader', ['a', 'a-preview'])).toBe(
      "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'a' OR @Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'a-preview'))",
    );
    expect(() => repositoryCondition('AcrPush', ['a'])).toThrow(/not an ABAC-enabled registry role/);
  });
});

describe('wantedRoles on an ABAC registry', () => {
  it('gives each identity the Writer on its own repository only, and the kubelet the Reader on both', () => {
    const plan = wantedRoles(input());
    expect(plan.switchRegistry).toBe(false);
    expect(plan.refusals).toEqual([]);
    expect(plan.wanted.map((w) => [w.identity, w.role, w.scope, w.condition])).toEqual([
      ['production', 'Container Registry Repository Writer', registryId, docsCondition('archetype')],
      ['preview', 'Container Registry Repository Writer', registryId, docsCondition('archetype-preview')],
      [
        'kubelet',
        'Container Registry Repository Reader',
        registryId,
        repositoryCondition('Container Registry Repository Reader', ['archetype', 'archetype-preview']),
      ],
      ['production', 'Azure Kubernetes Service Cluster User Role', clusterId, undefined],
      ['preview', 'Azure Kubernetes Service Cluster User Role', clusterId, undefined],
    ]);
    expect(plan.wanted[2]?.why).toMatch(/ImagePullBackOff/);
  });

  it('reuses an assignment with the same condition; one without it does not count, and conflicts', () => {
    const [production] = wantedRoles(input()).wanted;
    if (!production) throw new Error('no production role');
    const same = assignment('p-1', 'Container Registry Repository Writer', registryId.toLowerCase(), {
      condition: docsCondition('archetype'),
    });
    const bare = assignment('p-1', 'Container Registry Repository Writer');
    expect(planRoles(sub, [production], [same])).toEqual([]);
    expect(planRoles(sub, [production], [bare])).toEqual([production]);
    expect(conflictingGrant(sub, production, [bare])).toBe(bare);
    expect(conflictingGrant(sub, production, [same])).toBeUndefined();
  });

  it("counts the kubelet's Reader without a condition (inherited too) or with setup's, never its AcrPull", () => {
    const kubeletRole = (assignments: RoleAssignment[]) =>
      wantedRoles(input({ kubelet: { principalId: 'k-1', assignments } })).wanted.filter(
        (w) => w.identity === 'kubelet',
      );
    expect(kubeletRole([assignment('k-1', 'AcrPull')])).toHaveLength(1);
    expect(kubeletRole([assignment('k-1', 'Container Registry Repository Reader', group)])).toEqual([]);
    const ours = repositoryCondition('Container Registry Repository Reader', [
      'archetype',
      'archetype-preview',
    ]);
    expect(
      kubeletRole([
        assignment('k-1', 'Container Registry Repository Reader', registryId, { condition: ours }),
      ]),
    ).toEqual([]);
    const other = repositoryCondition('Container Registry Repository Reader', ['other']);
    expect(
      kubeletRole([
        assignment('k-1', 'Container Registry Repository Reader', registryId, { condition: other }),
      ]),
    ).toHaveLength(1);
  });
});

describe('wantedRoles on a registry without ABAC', () => {
  it("plans the kubelet's AcrPull when it has none, saying why, and none when its group grants it", () => {
    const missing = wantedRoles(input({ registryAbac: false }));
    expect(missing.wanted.find((w) => w.identity === 'kubelet')).toMatchObject({
      role: 'AcrPull',
      scope: registryId,
      why: expect.stringMatching(/ImagePullBackOff/),
    });
    expect(missing.wanted.find((w) => w.identity === 'kubelet')?.condition).toBeUndefined();
    const held = wantedRoles(
      input({
        registryAbac: false,
        kubelet: { principalId: 'k-1', assignments: [assignment('k-1', 'AcrPull', group)] },
      }),
    );
    expect(held.wanted.map((w) => w.identity)).toEqual(['production', 'production', 'preview']);
  });

  it('says so when the cluster has no kubelet identity', () => {
    const { kubelet: _, ...rest } = input({ registryAbac: false });
    expect(wantedRoles(rest).refusals).toContainEqual(expect.stringMatching(/has no kubelet identity/));
  });

  it('--switch-registry-to-abac re-grants every other AcrPull/AcrPush holder, inherited ones too, before the switch', () => {
    const plan = wantedRoles(
      input({
        registryAbac: false,
        switchToAbac: true,
        kubelet: { principalId: 'k-1', assignments: [assignment('k-1', 'AcrPull')] },
        registryAssignments: [
          assignment('k-1', 'AcrPull', registryId, { principalType: 'ServicePrincipal' }),
          assignment('u-1', 'AcrPull', `/subscriptions/${sub}`, { principalType: 'User' }),
          assignment('g-1', 'AcrPull', group, { principalType: 'Group' }),
          assignment('g-1', 'AcrPush', registryId, { principalType: 'Group' }),
          // setup's own production identity gets its repository-scoped Writer instead
          assignment('p-1', 'AcrPush', registryId, { principalType: 'ServicePrincipal' }),
          assignment('x-1', 'Azure Kubernetes Service Cluster User Role', group),
        ],
      }),
    );
    expect(plan.switchRegistry).toBe(true);
    expect(plan.wanted.map((w) => [w.identity, w.principalId, w.role, w.regrantOf, w.condition])).toEqual([
      ['kubelet', 'k-1', 'Container Registry Repository Reader', 'AcrPull', undefined],
      ['holder', 'u-1', 'Container Registry Repository Reader', 'AcrPull', undefined],
      ['holder', 'g-1', 'Container Registry Repository Writer', 'AcrPush', undefined],
      ['production', 'p-1', 'Container Registry Repository Writer', undefined, docsCondition('archetype')],
      [
        'preview',
        'v-1',
        'Container Registry Repository Writer',
        undefined,
        docsCondition('archetype-preview'),
      ],
      ['production', 'p-1', 'Azure Kubernetes Service Cluster User Role', undefined, undefined],
      ['preview', 'v-1', 'Azure Kubernetes Service Cluster User Role', undefined, undefined],
    ]);
    expect(plan.wanted[1]).toMatchObject({
      principalType: 'User',
      why: expect.stringMatching(`AcrPull on /subscriptions/${sub},`),
    });
    expect(plan.refusals).toEqual([]);
    const lines = renderPlan({
      identities: [],
      credentials: [],
      roles: plan.wanted,
      switchRegistry: registryId,
      environments: [],
      variables: [],
      refusals: [],
      findings: [],
    });
    // the re-grants, then the switch, then the repository-scoped roles
    expect(lines.slice(0, 5)).toEqual([
      expect.stringMatching(
        /^\+ role Container Registry Repository Reader for the cluster's kubelet identity \(principal k-1\) on .*, all repositories \(no condition\): it holds AcrPull on /,
      ),
      `+ role Container Registry Repository Reader for principal u-1 (User) on ${registryId}, all repositories (no condition): it holds AcrPull on /subscriptions/${sub}, which ABAC mode no longer honours`,
      expect.stringMatching(
        /^\+ role Container Registry Repository Writer for principal g-1 \(Group\) .*it holds AcrPush on /,
      ),
      expect.stringMatching(
        `^~ registry ${registryId}: role assignment mode LegacyRegistryPermissions -> AbacRepositoryPermissions`,
      ),
      `+ role Container Registry Repository Writer for the production identity on ${registryId}, only repository archetype (condition)`,
    ]);
  });
});
