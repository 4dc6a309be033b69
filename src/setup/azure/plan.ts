// The Azure part of setup's plan, from what read-state.ts found: identities to create, federated credentials
// (planCredentials reuses any with the same issuer and subject), role assignments (registry-roles.ts
// wantedRoles, planRoles), the registry's switch to ABAC, and the cluster's findings. Pure: printing it
// changes nothing.
import { clusterFindings } from '../cluster-findings.js';
import {
  type CredentialChange,
  type IdentityRole,
  planCredentials,
  type WantedCredential,
} from '../federation-plan.js';
import { conflictingGrant, planRoles, type WantedRole } from '../plan.js';
import type { SetupPlan } from '../print.js';
import { wantedRoles } from '../registry-roles.js';
import type { AzureState, AzureTarget } from './read-state.js';

/** The Azure fields of SetupPlan. */
export type AzurePlan = Pick<
  SetupPlan,
  'identities' | 'credentials' | 'roles' | 'switchRegistry' | 'refusals' | 'findings'
>;

/** Stands for the principal id of an identity the plan creates, which Azure assigns on creation. */
export function pendingPrincipal(identity: IdentityRole): string {
  return `(principal of the new ${identity} identity)`;
}

export function planAzure(state: AzureState, target: AzureTarget, wanted: WantedCredential[]): AzurePlan {
  const roles: IdentityRole[] = ['production', 'preview'];
  const identities = roles
    .filter((role) => !state.identities[role])
    .map((role) => ({
      identity: role,
      name: target.identityNames[role],
      resourceGroup: target.resourceGroup,
    }));
  const credentials: CredentialChange[] = planCredentials(wanted, {
    production: state.identities.production?.credentials ?? [],
    preview: state.identities.preview?.credentials ?? [],
  });
  const principals = {
    production: state.identities.production?.principalId ?? pendingPrincipal('production'),
    preview: state.identities.preview?.principalId ?? pendingPrincipal('preview'),
  };
  const kubelet = state.cluster.kubeletPrincipalId;
  const rolePlan = wantedRoles({
    subscriptionId: target.subscriptionId,
    registryId: state.registry.id,
    registryAbac: state.registry.abac,
    clusterId: state.cluster.id,
    principals,
    repositories: target.repositories,
    ...(kubelet ? { kubelet: { principalId: kubelet, assignments: state.kubeletAssignments } } : {}),
    switchToAbac: target.switchToAbac === true,
    registryAssignments: state.registryAssignments,
  });
  const existing = [...state.roleAssignments, ...state.kubeletAssignments, ...state.registryAssignments];
  const refusals = [...rolePlan.refusals];
  const plannedRoles: WantedRole[] = [];
  for (const role of planRoles(target.subscriptionId, rolePlan.wanted, existing)) {
    // ARM keeps one assignment per principal, role and scope: another condition there must go first
    const other = role.condition ? conflictingGrant(target.subscriptionId, role, existing) : undefined;
    if (!other) plannedRoles.push(role);
    else
      refusals.push(
        `the ${role.identity} identity (principal ${role.principalId}) holds ${role.role} on ${role.scope} ${other.condition ? 'under another condition' : 'without a condition, on every repository'}, and ARM keeps one such assignment: delete it (az role assignment delete --ids ${role.scope}/providers/Microsoft.Authorization/roleAssignments/${'name' in other ? String(other.name) : '<name>'}) and run setup again to limit it to ${role.repositories?.join(', ')}`,
      );
  }
  return {
    identities,
    credentials,
    roles: plannedRoles,
    ...(rolePlan.switchRegistry ? { switchRegistry: state.registry.id } : {}),
    refusals,
    findings: clusterFindings(state.cluster.facts, target.cluster.resourceGroup, target.cluster.name),
  };
}
