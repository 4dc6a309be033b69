import { planRoles, planVariables, roleDefinitionId, wantedVariables } from '../../src/setup/plan.js';
import { type RoleInput, wantedRoles } from '../../src/setup/registry-roles.js';

const sub = '22222222-2222-2222-2222-222222222222';
const registryId = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr`;
const clusterId = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks`;
const principals = { production: 'p-1', preview: 'v-1' };
const base = {
  subscriptionId: sub,
  registryId,
  clusterId,
  principals,
  repositories: { production: 'archetype', preview: 'archetype-preview' },
  kubelet: {
    principalId: 'k-1',
    assignments: [
      { scope: registryId, roleDefinitionId: roleDefinitionId(sub, 'AcrPull'), principalId: 'k-1' },
    ],
  },
  switchToAbac: false,
  registryAssignments: [],
} satisfies Omit<RoleInput, 'registryAbac'>;

describe('wantedRoles / planRoles', () => {
  it('grants AcrPush to production only on a registry without ABAC, and says why previews get none', () => {
    const plan = wantedRoles({ ...base, registryAbac: false });
    expect(plan.wanted.map((w) => [w.identity, w.role, w.scope])).toEqual([
      ['production', 'AcrPush', registryId],
      ['production', 'Azure Kubernetes Service Cluster User Role', clusterId],
      ['preview', 'Azure Kubernetes Service Cluster User Role', clusterId],
    ]);
    expect(plan.refusals).toEqual([
      expect.stringMatching(
        /not in ABAC mode.*preview identity gets no push right.*--switch-registry-to-abac/,
      ),
    ]);
  });

  it('plans no AcrPush in ABAC mode', () => {
    const plan = wantedRoles({ ...base, registryAbac: true });
    expect(plan.wanted.map((w) => w.role)).not.toContain('AcrPush');
  });

  it('plans every role on nothing, and nothing once the assignments exist (ids in any case)', () => {
    const { wanted } = wantedRoles({ ...base, registryAbac: false });
    expect(planRoles(sub, wanted, [])).toHaveLength(3);
    const existing = wanted.map((w) => ({
      scope: w.scope.toLowerCase(),
      principalId: w.principalId,
      roleDefinitionId: roleDefinitionId(sub, w.role).toUpperCase(),
    }));
    expect(planRoles(sub, wanted, existing)).toEqual([]);
  });
});

describe('wantedVariables / planVariables', () => {
  const wanted = wantedVariables({
    tenantId: 't',
    subscriptionId: sub,
    registry: 'acr',
    resourceGroup: 'rg',
    clusterName: 'aks',
    clientIds: { production: 'c-prod', preview: 'c-prev' },
    previewDomain: 'preview.example.com',
  });

  it('puts production client id on the environment and the rest on the repository', () => {
    expect(wanted.find((v) => v.name === 'AZURE_CLIENT_ID')?.environment).toBe('production');
    expect(wanted.filter((v) => v.environment === undefined).map((v) => v.name)).toEqual([
      'AZURE_PREVIEW_CLIENT_ID',
      'AZURE_TENANT_ID',
      'AZURE_SUBSCRIPTION_ID',
      'ACR_NAME',
      'AKS_RESOURCE_GROUP',
      'AKS_CLUSTER_NAME',
      'PREVIEW_DOMAIN',
    ]);
  });

  it('plans what differs, with the current value, and nothing when all match', () => {
    const existing = new Map(wanted.map((v) => [`${v.environment ?? ''}/${v.name}`, v.value]));
    expect(planVariables(wanted, existing)).toEqual([]);
    existing.set('/ACR_NAME', 'old');
    expect(planVariables(wanted, existing)).toEqual([{ name: 'ACR_NAME', value: 'acr', current: 'old' }]);
  });
});
