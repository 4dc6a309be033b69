// The four ARM SDK clients setup uses, all against one ARM base URL and one credential, so that the command
// can target a sovereign cloud and tests the local stand-in (test/fakes/azure-server.ts).
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import type { TokenCredential } from '@azure/core-auth';

export interface SetupArm {
  subscriptionId: string;
  msi: ManagedServiceIdentityClient;
  authorization: AuthorizationManagementClient;
  registries: ContainerRegistryManagementClient;
  clusters: ContainerServiceClient;
}

/** Clients for `subscriptionId` at `endpoint` (ARM's base URL, e.g. https://management.azure.com). */
export function armClients(credential: TokenCredential, subscriptionId: string, endpoint: string): SetupArm {
  const base = endpoint.replace(/\/+$/, '');
  // the older generated clients (msi, authorization) build request URLs from $host and take the token
  // scope from endpoint; the newer ones (registry, cluster) take the URL from endpoint, and the cluster's
  // its scope from credentials.scopes alone (else https://management.azure.com/.default, whatever endpoint)
  const classic = { endpoint: base, $host: base };
  const modular = { endpoint: base, credentials: { scopes: [`${base}/.default`] } };
  return {
    subscriptionId,
    msi: new ManagedServiceIdentityClient(credential, subscriptionId, classic),
    authorization: new AuthorizationManagementClient(credential, subscriptionId, classic),
    registries: new ContainerRegistryManagementClient(credential, subscriptionId, modular),
    clusters: new ContainerServiceClient(credential, subscriptionId, modular),
  };
}
