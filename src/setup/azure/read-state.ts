// Reads what exists in Azure for setup, changing nothing: the two identities (by name, with their tags and
// federated credentials), the registry (its role assignment mode), the cluster (for cluster-findings.ts),
// and the role assignments the identities hold on the registry and the cluster.
import type { ClusterFacts } from '../cluster-findings.js';
import type { FederatedCredential, IdentityRole } from '../federation-plan.js';
import type { RoleAssignment } from '../plan.js';
import { all, armCall, armFailure, armStatus } from './arm-call.js';
import type { SetupArm } from './clients.js';
import { clusterId, registryId, resourceGroupId } from './ids.js';

/** Where setup works: the identities' resource group (the registry's too), the cluster, the names. */
export interface AzureTarget {
  subscriptionId: string;
  resourceGroup: string;
  registry: string;
  cluster: { resourceGroup: string; name: string };
  /** owner/name: the value of setup's tag */
  repository: string;
  /** the registry repositories production and previews push to (--image-name; the action's image-name) */
  repositories: { production: string; preview: string };
  /** --switch-registry-to-abac: switch a registry without ABAC, re-granting its AcrPull/AcrPush holders first */
  switchToAbac?: boolean;
  identityNames: Record<IdentityRole, string>;
}

export interface IdentityState {
  name: string;
  id: string;
  location?: string;
  clientId: string;
  principalId: string;
  tenantId?: string;
  tags: Record<string, string>;
  credentials: FederatedCredential[];
}

export interface AzureState {
  identities: Record<IdentityRole, IdentityState | undefined>;
  registry: { id: string; location: string; abac: boolean };
  cluster: { id: string; location: string; facts: ClusterFacts; kubeletPrincipalId?: string };
  /** the identities' role assignments at, above or below the registry and the cluster */
  roleAssignments: Array<RoleAssignment & { name: string }>;
  /** the kubelet identity's role assignments at, above or below the registry */
  kubeletAssignments: Array<RoleAssignment & { name: string }>;
  /** every role assignment at or above the registry: read only to switch it to ABAC, else [] */
  registryAssignments: Array<RoleAssignment & { name: string }>;
}

/** Everything setup plans from, for `target`. */
export async function readAzureState(arm: SetupArm, target: AzureTarget): Promise<AzureState> {
  const { subscriptionId: sub } = arm;
  const registry = await readRegistry(arm, target);
  const cluster = await readCluster(arm, target);
  const identities = {
    production: await readIdentity(arm, target.resourceGroup, target.identityNames.production),
    preview: await readIdentity(arm, target.resourceGroup, target.identityNames.preview),
  };
  const roleAssignments: AzureState['roleAssignments'] = [];
  for (const identity of Object.values(identities)) {
    if (!identity) continue;
    for (const scope of [registry.id, cluster.id])
      roleAssignments.push(...(await readRoleAssignments(arm, scope, identity.principalId)));
  }
  const kubelet = cluster.kubeletPrincipalId;
  const kubeletAssignments = kubelet ? await readRoleAssignments(arm, registry.id, kubelet) : [];
  // the holders of AcrPull/AcrPush the switch must re-grant, inherited ones included
  const registryAssignments =
    target.switchToAbac && !registry.abac ? await readAssignmentsAt(arm, registry.id) : [];
  return {
    identities,
    registry,
    cluster,
    roleAssignments: dedupe(roleAssignments, sub),
    kubeletAssignments: dedupe(kubeletAssignments, sub),
    registryAssignments: dedupe(registryAssignments, sub),
  };
}

async function readRegistry(arm: SetupArm, target: AzureTarget): Promise<AzureState['registry']> {
  const id = registryId(arm.subscriptionId, target.resourceGroup, target.registry);
  // Registries_Get
  const registry = await armCall(
    `reading registry ${id}`,
    () => arm.registries.registries.get(target.resourceGroup, target.registry),
    {
      404: `there is no registry '${target.registry}' in resource group '${target.resourceGroup}' of subscription ${arm.subscriptionId}: check --registry, --resource-group and --subscription`,
    },
  );
  return {
    id: registry.id ?? id,
    location: registry.location,
    abac: registry.roleAssignmentMode === 'AbacRepositoryPermissions',
  };
}

async function readCluster(arm: SetupArm, target: AzureTarget): Promise<AzureState['cluster']> {
  const { resourceGroup, name } = target.cluster;
  const id = clusterId(arm.subscriptionId, resourceGroup, name);
  // ManagedClusters_Get
  const cluster = await armCall(
    `reading cluster ${id}`,
    () => arm.clusters.managedClusters.get(resourceGroup, name),
    {
      404: `there is no managed cluster '${name}' in resource group '${resourceGroup}' of subscription ${arm.subscriptionId}: check --cluster and --subscription`,
    },
  );
  return {
    id: cluster.id ?? id,
    location: cluster.location,
    facts: {
      enableRbac: cluster.enableRbac,
      disableLocalAccounts: cluster.disableLocalAccounts,
      aadProfile: cluster.aadProfile,
      networkProfile: cluster.networkProfile,
      ingressProfile: cluster.ingressProfile,
    },
    // the kubelet identity's object id: the principal the nodes pull images as
    kubeletPrincipalId: cluster.identityProfile?.kubeletidentity?.objectId,
  };
}

/** The identity `name` of `resourceGroup` with its federated credentials, or undefined when there is none. */
export async function readIdentity(
  arm: SetupArm,
  resourceGroup: string,
  name: string,
): Promise<IdentityState | undefined> {
  const where = `managed identity ${resourceGroupId(arm.subscriptionId, resourceGroup)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  let identity: Awaited<ReturnType<SetupArm['msi']['userAssignedIdentities']['get']>>;
  try {
    // UserAssignedIdentities_Get
    identity = await arm.msi.userAssignedIdentities.get(resourceGroup, name);
  } catch (error) {
    const { status, code } = armStatus(error);
    // an absent identity is what a first run finds; an absent resource group is a mistyped flag
    if (status === 404 && code !== 'ResourceGroupNotFound') return undefined;
    throw armFailure(`reading ${where}`, error, {
      404: `check --resource-group '${resourceGroup}' and --subscription: setup creates identities only in an existing resource group`,
    });
  }
  if (!identity.clientId || !identity.principalId || !identity.id)
    throw new Error(`reading ${where}: ARM answered it without clientId, principalId or id; try again later`);
  // FederatedIdentityCredentials_List
  const credentials = await armCall(`listing the federated credentials of ${where}`, () =>
    all(arm.msi.federatedIdentityCredentials.list(resourceGroup, name)),
  );
  return {
    name,
    id: identity.id,
    location: identity.location,
    clientId: identity.clientId,
    principalId: identity.principalId,
    tenantId: identity.tenantId,
    tags: identity.tags ?? {},
    credentials: credentials.map((c) => ({
      name: c.name ?? '',
      issuer: c.issuer ?? '',
      subject: c.subject ?? '',
      audiences: c.audiences ?? [],
    })),
  };
}

/** The role assignments of `principalId` at, above or below `scope` (RoleAssignments_ListForScope). */
export async function readRoleAssignments(
  arm: SetupArm,
  scope: string,
  principalId: string,
): Promise<Array<RoleAssignment & { name: string }>> {
  const found = await armCall(`listing the role assignments of principal ${principalId} on ${scope}`, () =>
    all(
      arm.authorization.roleAssignments.listForScope(scope.replace(/^\/+/, ''), {
        filter: `assignedTo('${principalId}')`,
      }),
    ),
  );
  return found.map((a) => assignmentOf(a, scope));
}

/** Every role assignment at or above `scope` (RoleAssignments_ListForScope, $filter=atScope()). */
export async function readAssignmentsAt(
  arm: SetupArm,
  scope: string,
): Promise<Array<RoleAssignment & { name: string }>> {
  const found = await armCall(`listing the role assignments at and above ${scope}`, () =>
    all(arm.authorization.roleAssignments.listForScope(scope.replace(/^\/+/, ''), { filter: 'atScope()' })),
  );
  return found.map((a) => assignmentOf(a, scope));
}

function assignmentOf(
  a: {
    name?: string;
    scope?: string;
    roleDefinitionId?: string;
    principalId?: string;
    principalType?: string;
    condition?: string;
    description?: string;
  },
  scope: string,
): RoleAssignment & { name: string } {
  return {
    name: a.name ?? '',
    scope: a.scope ?? scope,
    roleDefinitionId: a.roleDefinitionId ?? '',
    principalId: a.principalId ?? '',
    ...(a.principalType ? { principalType: a.principalType } : {}),
    ...(a.condition ? { condition: a.condition } : {}),
    ...(a.description ? { description: a.description } : {}),
  };
}

/**
 * One entry per assignment (the registry's and the cluster's lists overlap above them), with role definition
 * ids qualified by the subscription as plan.ts compares them: the REST examples answer them unqualified
 * (/providers/Microsoft.Authorization/roleDefinitions/{id}).
 */
function dedupe(
  assignments: AzureState['roleAssignments'],
  subscriptionId: string,
): AzureState['roleAssignments'] {
  const seen = new Map<string, AzureState['roleAssignments'][number]>();
  for (const a of assignments) {
    const roleDefinitionId = a.roleDefinitionId.toLowerCase().startsWith('/providers/')
      ? `/subscriptions/${subscriptionId}${a.roleDefinitionId}`
      : a.roleDefinitionId;
    seen.set(`${a.scope.toLowerCase()}|${a.name}`, { ...a, roleDefinitionId });
  }
  return [...seen.values()];
}
