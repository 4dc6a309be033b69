import type { TokenCredential } from '@azure/identity';
import { type AksCluster, aksApiVersion, armError, clusterPath } from './aks.js';
import { azureClouds } from './cloud.js';
import { azureGet } from './http.js';
import { bearerToken } from './token.js';

// Whether an AKS cluster enforces NetworkPolicies at all: without a network policy engine it stores them and
// enforces none, so a preview's default-deny denies nothing. Read from the cluster's network profile (Azure
// Resource Manager, Managed Clusters - Get; the Azure Kubernetes Service Cluster User Role the identities
// hold includes Microsoft.ContainerService/managedClusters/read).

/**
 * The engines of networkProfile.networkPolicy (REST spec, ManagedClusters 2024-09-01, enum NetworkPolicy:
 * none, calico, azure, cilium; "none ... is the default value when NetworkPolicy is not specified"). The data
 * plane does not enforce by itself: networkDataplane cilium with networkPolicy none enforces nothing.
 */
const enforcing = new Set(['azure', 'calico', 'cilium']);

export interface NetworkPolicyEngine {
  /** networkProfile.networkPolicy as ARM gives it ('' when absent: none) */
  engine: string;
  enforced: boolean;
  /** networkProfile.networkPlugin (azure, kubenet, none) and networkDataplane (azure, cilium): the fix */
  plugin: string;
  dataplane: string;
}

export async function aksNetworkPolicy(
  cluster: AksCluster,
  credential: TokenCredential,
  options: { armEndpoint?: string } = {},
): Promise<NetworkPolicyEngine> {
  const arm = (options.armEndpoint ?? azureClouds.AzureCloud.armEndpoint).replace(/\/+$/, '');
  const armToken = await bearerToken(credential, `${arm}/.default`);
  const url = `${arm}${clusterPath(cluster)}?api-version=${aksApiVersion}`;
  const response = await azureGet(
    url,
    { headers: { Authorization: `Bearer ${armToken}`, Accept: 'application/json' } },
    `Azure Resource Manager GET of AKS cluster '${cluster.clusterName}'`,
  );
  if (response.status !== 200)
    throw new Error(
      armError(response, cluster, {
        method: 'GET',
        url,
        armToken,
        action: 'read',
        orElse:
          "or set input 'require-network-policy' to false to make previews without the check (a warning).",
      }),
    );
  const profile =
    (response.json as { properties?: { networkProfile?: Record<string, unknown> } } | undefined)?.properties
      ?.networkProfile ?? {};
  const text = (name: string) => (typeof profile[name] === 'string' ? (profile[name] as string) : '');
  const engine = text('networkPolicy');
  return {
    engine,
    enforced: enforcing.has(engine.toLowerCase()),
    plugin: text('networkPlugin').toLowerCase(),
    dataplane: text('networkDataplane').toLowerCase(),
  };
}

/** Why a preview may not be made on this cluster, with the fix; undefined when its isolation holds. */
export function isolationRefusal(cluster: AksCluster, found: NetworkPolicyEngine): string | undefined {
  if (found.enforced) return undefined;
  const update = `az aks update --resource-group ${cluster.resourceGroup} --name ${cluster.clusterName} --network-policy`;
  // AKS "Secure traffic between pods by using network policies": an existing cluster takes Azure Network
  // Policy Manager (Azure CNI only) or Calico, re-imaging every node pool at once; Cilium policy needs the
  // Cilium data plane (Azure CNI Powered by Cilium)
  const reimages = 'which re-images every node pool at once';
  const fix =
    found.plugin === 'none'
      ? 'the cluster brings its own CNI (networkPlugin none), so AKS enables none: install one that enforces NetworkPolicies (Calico, Cilium)'
      : found.dataplane === 'cilium'
        ? `${update} cilium, ${reimages}`
        : found.plugin === 'kubenet'
          ? `${update} calico, ${reimages} (Azure Network Policy Manager needs Azure CNI)`
          : `${update} azure (or calico), ${reimages}; Cilium needs Azure CNI Powered by Cilium (--network-dataplane cilium)`;
  return (
    `AKS cluster '${cluster.clusterName}' enforces no NetworkPolicy (networkProfile.networkPolicy is ${found.engine ? `'${found.engine}'` : 'not set'}): ` +
    `a preview's default-deny would deny nothing, and its pods could reach production's pods and the node's metadata endpoint. ` +
    `Enable a network policy engine (docs/github-setup.md, step 5): ${fix}. ` +
    'An engine installed outside AKS (self-managed Calico or Cilium) is not in the network profile'
  );
}
