// The Azure part of setup's plan, from what read-state.ts found: identities to create, federated credentials
// (planCredentials reuses any with the same issuer and subject), role assignments (wantedRoles, planRoles),
// and the cluster's findings. Pure: printing it changes nothing.
import { clusterFindings } from '../cluster-findings.js';
import {
  type CredentialChange,
  type IdentityRole,
  planCredentials,
  type WantedCredential,
} from '../federation-plan.js';
import { planRoles, type WantedRole, wantedRoles } from '../plan.js';
import type { SetupPlan } from '../print.js';
import type { AzureState, AzureTarget } from './read-state.js';

/** The Azure fields of SetupPlan. */
export type AzurePlan = Pick<SetupPlan, 'identities' | 'credentials' | 'roles' | 'refusals' | 'findings'>;

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
  const rolePlan = wantedRoles({
    subscriptionId: target.subscriptionId,
    registryId: state.registry.id,
    registryAbac: state.registry.abac,
    clusterId: state.cluster.id,
    principals,
  });
  const plannedRoles: WantedRole[] = planRoles(target.subscriptionId, rolePlan.wanted, state.roleAssignments);
  return {
    identities,
    credentials,
    roles: plannedRoles,
    refusals: rolePlan.refusals,
    findings: clusterFindings(state.cluster.facts, target.cluster.resourceGroup, target.cluster.name),
  };
}
