// The role assignments and GitHub variables setup wants, against what exists: pure, so the whole plan is
// printed before anything changes, and a second run plans nothing.

/** Built-in role definition ids (the same in every tenant). */
export const builtInRoles = {
  AcrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  'Azure Kubernetes Service Cluster User Role': '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
} as const;

export type BuiltInRole = keyof typeof builtInRoles;

export interface RoleAssignment {
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}

export interface WantedRole {
  identity: 'production' | 'preview';
  role: BuiltInRole;
  scope: string;
  principalId: string;
}

export interface RoleInput {
  subscriptionId: string;
  registryId: string;
  /** true when the registry is in ABAC repository-permissions mode */
  registryAbac: boolean;
  clusterId: string;
  principals: { production: string; preview: string };
}

export interface RolePlan {
  wanted: WantedRole[];
  /** what setup will not do in this mode, each with why and the way out */
  refusals: string[];
}

/** AcrPush on a registry without ABAC for production only; Cluster User Role on the cluster for both. */
export function wantedRoles(input: RoleInput): RolePlan {
  const wanted: WantedRole[] = [];
  const refusals: string[] = [];
  if (input.registryAbac)
    refusals.push(
      `registry ${input.registryId} is in ABAC repository-permissions mode: repository-scoped roles are not planned by this version of setup; grant them as docs/github-setup.md step 3 shows`,
    );
  else {
    wanted.push({
      identity: 'production',
      role: 'AcrPush',
      scope: input.registryId,
      principalId: input.principals.production,
    });
    refusals.push(
      `registry ${input.registryId} is not in ABAC mode, where AcrPush cannot be limited to one repository: the preview identity gets no push right there (a pull request could overwrite production's images); use a separate registry for previews or switch the registry to ABAC (docs/github-setup.md step 3)`,
    );
  }
  for (const identity of ['production', 'preview'] as const)
    wanted.push({
      identity,
      role: 'Azure Kubernetes Service Cluster User Role',
      scope: input.clusterId,
      principalId: input.principals[identity],
    });
  return { wanted, refusals };
}

/** The full role definition id of a built-in role in a subscription, as ARM writes it. */
export function roleDefinitionId(subscriptionId: string, role: BuiltInRole): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoles[role]}`;
}

/** The wanted roles no existing assignment covers (same principal, role and scope; ids compared case-insensitively). */
export function planRoles(
  subscriptionId: string,
  wanted: WantedRole[],
  existing: RoleAssignment[],
): WantedRole[] {
  const lower = (s: string) => s.toLowerCase().replace(/\/+$/, '');
  return wanted.filter(
    (want) =>
      !existing.some(
        (a) =>
          lower(a.principalId) === lower(want.principalId) &&
          lower(a.scope) === lower(want.scope) &&
          lower(a.roleDefinitionId).endsWith(lower(builtInRoles[want.role])) &&
          lower(a.roleDefinitionId).includes(lower(`/subscriptions/${subscriptionId}/`)),
      ),
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
