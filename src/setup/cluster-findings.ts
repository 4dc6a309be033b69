// Read-only findings on the managed cluster (as @azure/arm-containerservice's ManagedCluster gives it),
// each with the command that fixes it. This step changes nothing on the cluster.

/** The fields of a ManagedCluster the findings read. */
export interface ClusterFacts {
  enableRbac?: boolean;
  disableLocalAccounts?: boolean;
  aadProfile?: { managed?: boolean; enableAzureRbac?: boolean };
  networkProfile?: { networkPolicy?: string };
  ingressProfile?: {
    webAppRouting?: {
      enabled?: boolean;
      nginx?: { defaultIngressControllerType?: string };
      gatewayAPIImplementations?: { appRoutingIstio?: { mode?: string } };
    };
    gatewayAPI?: { installation?: string };
  };
}

/** What the previews' isolation needs and this cluster lacks; [] when all holds. */
export function clusterFindings(cluster: ClusterFacts, resourceGroup: string, name: string): string[] {
  const aks = `az aks update --resource-group ${resourceGroup} --name ${name}`;
  const findings: string[] = [];
  if (cluster.enableRbac === false)
    findings.push(
      `Kubernetes RBAC is off, so every identity with the Cluster User Role is cluster admin; it can only be chosen at creation: make a new cluster with RBAC`,
    );
  if (!cluster.aadProfile?.managed)
    findings.push(
      `Microsoft Entra integration is off, so the user credential is a client certificate, not the identity's: ${aks} --enable-aad`,
    );
  else if (cluster.aadProfile.enableAzureRbac)
    findings.push(
      `Azure RBAC for Kubernetes authorization is on: beside rbac/'s bindings, Azure role assignments (an AKS RBAC role on the cluster, its resource group or the subscription) grant Kubernetes rights too; setup's checks ask the API server, which asks Azure as well, but a later assignment widens the identities unseen; to keep Kubernetes RBAC alone: ${aks} --disable-azure-rbac`,
    );
  if (!cluster.disableLocalAccounts)
    findings.push(
      `local accounts are enabled, so the user credential ARM returns is cluster-admin: ${aks} --disable-local-accounts`,
    );
  const policy = cluster.networkProfile?.networkPolicy;
  if (!policy || policy === 'none')
    findings.push(
      `no network policy engine, so the previews' NetworkPolicy is stored but not enforced: ${aks} --network-policy azure (or calico; docs/github-setup.md step 5)`,
    );
  const routing = ingressFinding(cluster, resourceGroup, name);
  if (routing) findings.push(routing);
  return findings;
}

/**
 * Application routing's Gateway API implementation (GatewayClass approuting-istio, the action's `gateway`
 * input) is what serves new apps: its NGINX controller's Azure support ended in November 2026.
 */
function ingressFinding(cluster: ClusterFacts, resourceGroup: string, name: string): string | undefined {
  const routing = cluster.ingressProfile?.webAppRouting;
  const gateway =
    routing?.enabled === true && routing.gatewayAPIImplementations?.appRoutingIstio?.mode === 'Enabled';
  if (gateway) return undefined;
  const where = `--resource-group ${resourceGroup} --name ${name}`;
  const enable = `az aks update ${where} --enable-gateway-api, then az aks approuting gateway istio enable ${where} (GatewayClass approuting-istio; docs/gateway-api.md)`;
  const nginx = routing?.enabled === true && routing.nginx?.defaultIngressControllerType !== 'None';
  if (nginx)
    return `application routing serves the app through its NGINX controller, whose Azure support ended in November 2026: move to its Gateway API implementation: ${enable}`;
  return `application routing is off, so nothing serves the app from outside: ${routing?.enabled ? '' : `az aks approuting enable ${where}, then `}${enable}`;
}
