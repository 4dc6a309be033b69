import type { TokenCredential } from '@azure/identity';
import { parse, stringify } from 'yaml';
import type { ClusterTarget } from '../settings.js';
import { maskSecret } from '../util/secrets.js';
import { azureClouds } from './cloud.js';
import { entraAuthProvider } from './cluster-token.js';
import { type AzureResponse, azurePost, quoteBody } from './http.js';
import { bearerToken, jwtClaims, principalOf } from './token.js';

export type AksCluster = Extract<ClusterTarget, { kind: 'aks' }>;

/** Entra ID application of the AKS API server (AKS-managed Entra ID integration). */
export const aksServerAppId = '6dae42f8-4368-4678-94ff-3960e28e3630';
/** A stable Microsoft.ContainerService version, old enough to be served in the sovereign clouds too. */
export const aksApiVersion = '2024-09-01';

/**
 * The cluster's kubeconfig from Azure Resource Manager (Managed Clusters - List Cluster User Credentials, or
 * List Cluster Admin Credentials when cluster.admin), as text that never touches the disk. On clusters with
 * Entra ID integration, the user's kubelogin `exec` entry (or legacy `azure` auth-provider) is replaced by a
 * provider that EntraTokens serves: a token for the AKS server application, renewed before it expires, so no
 * kubelogin binary is needed. Every credential in it is masked.
 */
export async function aksKubeconfig(
  cluster: AksCluster,
  credential: TokenCredential,
  options: { armEndpoint?: string } = {},
): Promise<string> {
  const arm = (options.armEndpoint ?? azureClouds.AzureCloud.armEndpoint).replace(/\/+$/, '');
  const armToken = await bearerToken(credential, `${arm}/.default`);
  const action = cluster.admin ? 'listClusterAdminCredential' : 'listClusterUserCredential';
  const query = new URLSearchParams({ 'api-version': aksApiVersion });
  // exec: the one shape for Entra ID clusters that we rewrite below (the 'azure' auth-provider is deprecated)
  if (!cluster.admin) query.set('format', 'exec');
  // a private cluster with a public FQDN: the kubeconfig names that instead of the private endpoint
  if (cluster.publicFqdn) query.set('server-fqdn', 'public');
  const url = `${arm}${clusterPath(cluster)}/${action}?${query}`;
  const response = await azurePost(
    url,
    { headers: { Authorization: `Bearer ${armToken}`, Accept: 'application/json' } },
    `Azure Resource Manager ${action} for AKS cluster '${cluster.clusterName}'`,
  );
  if (response.status !== 200)
    throw new Error(armError(response, cluster, { method: 'POST', url, armToken, action }));

  const kubeconfigs = (response.json as { kubeconfigs?: { name?: string; value?: string }[] } | undefined)
    ?.kubeconfigs;
  const wanted = cluster.admin ? 'clusterAdmin' : 'clusterUser';
  const entry = kubeconfigs?.find((k) => k.name === wanted) ?? kubeconfigs?.[0];
  if (!entry?.value)
    throw new Error(
      `Azure Resource Manager ${action} for AKS cluster '${cluster.clusterName}' returned no kubeconfig (no kubeconfigs[].value in its answer)`,
    );
  return withTokens(Buffer.from(entry.value, 'base64').toString('utf8'), credential, cluster);
}

/**
 * Whether the kubeconfig signs in with Microsoft Entra ID (what withTokens made of a kubelogin entry). One
 * without it holds a local account's client certificate, which is cluster-admin whoever uses it.
 */
export function signsInWithEntra(text: string): boolean {
  const config = parse(text) as { users?: KubeUser[] } | null;
  const users = config?.users ?? [];
  return users.length > 0 && users.every((u) => u.user?.['auth-provider']?.name === entraAuthProvider);
}

/** What a kubeconfig without Entra sign-in means, and the way out. */
export function localAccountWarning(c: AksCluster): string {
  return (
    `AKS cluster '${c.clusterName}' gave a kubeconfig without Microsoft Entra sign-in (a local account's client certificate): ` +
    `it is cluster-admin whoever uses it, so the rbac/ files bind nothing. Enable Entra integration and disable local accounts: ` +
    `az aks update --resource-group ${c.resourceGroup} --name ${c.clusterName} --enable-aad --disable-local-accounts`
  );
}

export function clusterPath(c: AksCluster): string {
  const e = encodeURIComponent;
  return `/subscriptions/${e(c.subscriptionId)}/resourceGroups/${e(c.resourceGroup)}/providers/Microsoft.ContainerService/managedClusters/${e(c.clusterName)}`;
}

interface KubeUser {
  name?: string;
  user?: {
    exec?: { command?: string; args?: string[] };
    'auth-provider'?: { name?: string; config?: Record<string, string> };
    [key: string]: unknown;
  };
}

/**
 * Replaces each kubelogin exec / azure auth-provider user with our own auth-provider for the same Entra
 * scope (EntraTokens serves it, renewing the token as it nears expiry), and masks all credentials. The first
 * token is fetched here, so that a credential that cannot have one fails now, naming itself.
 */
async function withTokens(text: string, credential: TokenCredential, cluster: AksCluster): Promise<string> {
  let config: { users?: KubeUser[] } | null;
  try {
    config = parse(text) as { users?: KubeUser[] } | null;
  } catch (error) {
    throw new Error(
      `the kubeconfig of AKS cluster '${cluster.clusterName}' is not YAML: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const scopes = new Set<string>();
  for (const entry of config?.users ?? []) {
    let user = entry.user;
    if (!user) continue;
    const serverId = entraServerId(user);
    if (serverId !== undefined) {
      const scope = `${serverId}/.default`;
      if (!scopes.has(scope)) await bearerToken(credential, scope);
      scopes.add(scope);
      user = entry.user = { 'auth-provider': { name: entraAuthProvider, config: { scope } } };
    }
    for (const key of ['token', 'client-key-data', 'client-certificate-data', 'password'])
      if (typeof user[key] === 'string') maskSecret(user[key] as string);
  }
  return scopes.size > 0 ? stringify(config) : text;
}

/** The Entra server application a kubelogin exec / azure auth-provider user logs in to, if it is one. */
function entraServerId(user: NonNullable<KubeUser['user']>): string | undefined {
  const exec = user.exec;
  if (exec && /(^|[/\\])kubelogin(\.exe)?$/.test(exec.command ?? '')) {
    const args = exec.args ?? [];
    const at = args.indexOf('--server-id');
    const inline = args.find((a) => a.startsWith('--server-id='))?.slice('--server-id='.length);
    return (at >= 0 ? args[at + 1] : inline) || aksServerAppId;
  }
  const provider = user['auth-provider'];
  if (provider?.name === 'azure') return provider.config?.['apiserver-id'] || aksServerAppId;
  return undefined;
}

/** The ARM request an error is about: what it asked of the cluster, and a way out where there is one. */
export interface ArmRequest {
  method: 'GET' | 'POST';
  url: string;
  armToken: string;
  /** 'read' (Managed Clusters - Get), or the action POSTed (listClusterUserCredential, ...) */
  action: string;
  /** said after the role to assign on a 403, e.g. an input that skips the call */
  orElse?: string;
}

/** ARM's answer about an AKS cluster turned into what to fix: error bodies are {"error":{"code","message"}}. */
export function armError(response: AzureResponse, c: AksCluster, request: ArmRequest): string {
  const error = (response.json as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = error?.code ?? '';
  const said = `Azure Resource Manager answered HTTP ${response.status} to ${request.method} ${request.url.split('?')[0]}: ${
    error ? `${code}: ${error.message ?? ''}` : quoteBody(response)
  }`;
  const claims = jwtClaims(request.armToken);
  const principal = principalOf(claims) ?? '<client id of the identity>';
  const scope = clusterPath(c);
  const role =
    request.action === 'listClusterAdminCredential'
      ? 'Azure Kubernetes Service Cluster Admin Role'
      : 'Azure Kubernetes Service Cluster User Role';
  const permission =
    request.action === 'read'
      ? 'Microsoft.ContainerService/managedClusters/read'
      : `Microsoft.ContainerService/managedClusters/${request.action}/action`;
  switch (response.status) {
    case 400:
      if (c.admin && /local account/i.test(error?.message ?? ''))
        return `${said}\nThe cluster disables local accounts, so it has no admin kubeconfig: set input 'admin-credentials' to false.`;
      return said;
    case 401:
      return `${said}\nARM did not accept the token of ${principal}: check that input 'azure-tenant-id' (token tenant ${String(claims.tid ?? '?')}) is the tenant of subscription '${c.subscriptionId}'.`;
    case 403:
      // ARM answers 403, not 404, for a scope the identity cannot see: a mistyped subscription, resource group
      // or cluster looks the same as a missing role to an identity whose role is on the cluster alone
      return (
        `${said}\nCheck inputs 'azure-subscription-id' (${c.subscriptionId}), 'resource-group' (${c.resourceGroup}) and 'cluster-name' (${c.clusterName}): ` +
        `ARM answers 403 rather than 404 for a resource the identity may not see. If they are right, the identity ${principal} needs the '${role}' on the cluster (action ${permission}), e.g.\n` +
        `  az role assignment create --assignee ${principal} --role "${role}" --scope ${scope}` +
        (request.orElse ? `\n${request.orElse}` : '')
      );
    case 404:
      if (code === 'SubscriptionNotFound')
        return `${said}\nSubscription '${c.subscriptionId}' was not found: check input 'azure-subscription-id', and that ${principal} has a role in it.`;
      if (code === 'ResourceGroupNotFound')
        return `${said}\nResource group '${c.resourceGroup}' was not found in subscription '${c.subscriptionId}': check input 'resource-group'.`;
      return `${said}\nAKS cluster '${c.clusterName}' was not found in resource group '${c.resourceGroup}' of subscription '${c.subscriptionId}': check inputs 'cluster-name', 'resource-group' and 'azure-subscription-id'.`;
    default:
      return said;
  }
}
