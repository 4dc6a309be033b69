// A subscription for setup's Azure tests on the stand-in (test/fakes/azure-server.ts, azure-arm-setup.ts):
// a registry, a cluster with Entra integration, a signed-in caller (Owner unless a test narrows its grants),
// and the real SDK clients pointed at the stand-in.

import { azureCredential } from '../../src/azure/identity.js';
import { armClients, type SetupArm } from '../../src/setup/azure/clients.js';
import { identityNames } from '../../src/setup/azure/ids.js';
import type { AzureTarget } from '../../src/setup/azure/read-state.js';
import { wantedCredentials } from '../../src/setup/federation-plan.js';
import { FakeAzure } from '../fakes/azure-server.js';

export const sub = '8f2e4a51-0c3d-4b7e-9a16-5d0c2b7e9f43';
export const caller = { clientId: '55555555-5555-5555-5555-555555555555', secret: 'admin-secret' };
export const registryPath = `/subscriptions/${sub}/resourceGroups/rg-archetype/providers/Microsoft.ContainerRegistry/registries/archetypeacr`;
export const clusterPath = `/subscriptions/${sub}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-archetype`;

export const target: AzureTarget = {
  subscriptionId: sub,
  resourceGroup: 'rg-archetype',
  registry: 'archetypeacr',
  cluster: { resourceGroup: 'rg-aks', name: 'aks-archetype' },
  repository: 'team/archetype',
  repositories: { production: 'archetype', preview: 'archetype-preview' },
  identityNames: identityNames('archetype'),
};

export const wanted = wantedCredentials({
  repository: 'team/archetype',
  defaultBranch: 'main',
  template: { use_default: true },
  audience: 'api://AzureADTokenExchange',
});

export async function startAzure(): Promise<{ fake: FakeAzure; arm: SetupArm }> {
  const fake = await FakeAzure.start();
  fake.apps.set(caller.clientId, { secret: caller.secret });
  fake.clusters.push({
    subscriptionId: sub,
    resourceGroup: 'rg-aks',
    name: 'aks-archetype',
    kubeconfigs: { clusterUser: '' },
    users: [caller.clientId],
    admins: [],
    networkPolicy: 'azure',
    properties: {
      aadProfile: { managed: true, enableAzureRBAC: false },
      disableLocalAccounts: true,
      // application routing with its Gateway API implementation (ManagedClusterIngressProfile, 2026-02-01 on)
      ingressProfile: {
        webAppRouting: {
          enabled: true,
          nginx: { defaultIngressControllerType: 'None' },
          gatewayAPIImplementations: { appRoutingIstio: { mode: 'Enabled' } },
        },
        gatewayAPI: { installation: 'Standard' },
      },
    },
  });
  fake.setup.registries.push({
    subscriptionId: sub,
    resourceGroup: 'rg-archetype',
    name: 'archetypeacr',
    location: 'eastus',
    roleAssignmentMode: 'LegacyRegistryPermissions',
  });
  const credential = azureCredential(
    { clientId: caller.clientId, tenantId: fake.tenantId, clientSecret: caller.secret },
    { authorityHost: fake.url },
  );
  return { fake, arm: armClients(credential, sub, fake.url) };
}

/**
 * The requests that change something (ARM's writes), for "nothing changed" assertions: not sign-ins, nor the
 * POST that reads the cluster's user kubeconfig.
 */
export function writes(fake: FakeAzure) {
  return fake.requests.filter(
    (r) =>
      ['PUT', 'PATCH', 'DELETE', 'POST'].includes(r.method) &&
      !r.path.includes('/oauth2/') &&
      !r.path.endsWith('/listClusterUserCredential'),
  );
}
