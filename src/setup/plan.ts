// The role assignments and GitHub variables setup wants, against what exists: pure, so the whole plan is
// printed before anything changes, and a second run plans nothing.

/**
 * Built-in role definition ids (the same in every tenant), from Microsoft's "Azure built-in roles" reference
 * (MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles.md and built-in-roles/containers.md).
 */
export const builtInRoles = {
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  AcrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  'Container Registry Repository Reader': 'b93aa761-3e63-49ed-ac28-beffa264f7ac',
  'Container Registry Repository Writer': '2a1e307c-b015-4ebd-883e-5b7698a07328',
  'Azure Kubernetes Service Cluster User Role': '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
} as const;

export type BuiltInRole = keyof typeof builtInRoles;

export interface RoleAssignment {
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  /** an ABAC condition (conditionVersion 2.0); none: the role holds on everything below the scope */
  condition?: string;
  principalType?: string;
  description?: string;
}

/** Who a role is for: one of setup's identities, the cluster's kubelet, or another holder of a registry role. */
export type Grantee = 'production' | 'preview' | 'kubelet' | 'holder';

export interface WantedRole {
  identity: Grantee;
  role: BuiltInRole;
  scope: string;
  principalId: string;
  /** the ABAC condition limiting it to `repositories` (ACR's repository permissions) */
  condition?: string;
  repositories?: string[];
  /** as ARM names it; setup's identities and the kubelet are ServicePrincipals */
  principalType?: string;
  /** why setup grants it, printed with it */
  why?: string;
  /** an AcrPull/AcrPush holder's role granted again in ABAC terms, before the registry's switch */
  regrantOf?: 'AcrPull' | 'AcrPush';
}

/** The full role definition id of a built-in role in a subscription, as ARM writes it. */
export function roleDefinitionId(subscriptionId: string, role: BuiltInRole): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoles[role]}`;
}

const lower = (s: string) => s.toLowerCase().replace(/\/+$/, '');

/** The last segment of a role definition id (the role's GUID), in lower case. */
export function roleGuid(roleDefinitionId: string): string {
  return lower(roleDefinitionId.split('/').pop() ?? '');
}

/** Whether `a` is the same grant as `want`: principal, role, scope and condition (ids compared case-insensitively). */
export function sameGrant(subscriptionId: string, want: WantedRole, a: RoleAssignment): boolean {
  return (
    lower(a.principalId) === lower(want.principalId) &&
    lower(a.scope) === lower(want.scope) &&
    roleGuid(a.roleDefinitionId) === builtInRoles[want.role] &&
    lower(a.roleDefinitionId).includes(lower(`/subscriptions/${subscriptionId}/`)) &&
    (a.condition ?? '').trim() === (want.condition ?? '').trim()
  );
}

/**
 * The wanted roles no existing assignment covers: same principal, role, scope and condition. An assignment
 * without the condition does not count for a conditioned role (it is another, wider grant).
 */
export function planRoles(
  subscriptionId: string,
  wanted: WantedRole[],
  existing: RoleAssignment[],
): WantedRole[] {
  return wanted.filter((want) => !existing.some((a) => sameGrant(subscriptionId, want, a)));
}

/**
 * The existing assignments that hold `want`'s principal, role and scope under another condition (or none).
 * ARM keeps one assignment per principal, role and scope, so a conditioned role cannot be added beside it.
 */
export function conflictingGrant(
  subscriptionId: string,
  want: WantedRole,
  existing: RoleAssignment[],
): RoleAssignment | undefined {
  return existing.find(
    (a) =>
      lower(a.principalId) === lower(want.principalId) &&
      lower(a.scope) === lower(want.scope) &&
      roleGuid(a.roleDefinitionId) === builtInRoles[want.role] &&
      !sameGrant(subscriptionId, want, a),
  );
}

export interface VariableChange {
  /** undefined: a repository variable; else the environment's */
  environment?: string;
  name: string;
  value: string;
  /** the value it has now, undefined when it does not exist */
  current?: string;
}

export interface VariableInput {
  tenantId: string;
  subscriptionId: string;
  registry: string;
  resourceGroup: string;
  clusterName: string;
  clientIds: { production: string; preview: string };
  /** previews' pr-<n>.<domain> (preview.yml) */
  previewDomain: string;
  /** production's host (deploy.yml); undefined: not planned */
  appHost?: string;
}

/** The variables the workflows read (.github/workflows/*.yml): never secrets, nothing here is secret. */
export function wantedVariables(input: VariableInput): VariableChange[] {
  return [
    { environment: 'production', name: 'AZURE_CLIENT_ID', value: input.clientIds.production },
    { name: 'AZURE_PREVIEW_CLIENT_ID', value: input.clientIds.preview },
    { name: 'AZURE_TENANT_ID', value: input.tenantId },
    { name: 'AZURE_SUBSCRIPTION_ID', value: input.subscriptionId },
    { name: 'ACR_NAME', value: input.registry },
    { name: 'AKS_RESOURCE_GROUP', value: input.resourceGroup },
    { name: 'AKS_CLUSTER_NAME', value: input.clusterName },
    { name: 'PREVIEW_DOMAIN', value: input.previewDomain },
    ...(input.appHost ? [{ name: 'APP_HOST', value: input.appHost }] : []),
  ];
}

/** The variables to create or change: `existing` keyed `<environment or ''>/<NAME>`. */
export function planVariables(wanted: VariableChange[], existing: Map<string, string>): VariableChange[] {
  const changes: VariableChange[] = [];
  for (const want of wanted) {
    const current = existing.get(`${want.environment ?? ''}/${want.name}`);
    if (current !== want.value) changes.push({ ...want, current });
  }
  return changes;
}
