// Applies the Azure plan: first the caller's rights for all of it (nothing changes when one is missing), then
// the identities (tagged with setup's tag), their federated credentials, and the role assignments under
// names hashed from what they grant, so a re-run neither duplicates nor fails.
import type { IdentityRole } from '../federation-plan.js';
import { type BuiltInRole, roleDefinitionId } from '../plan.js';
import { armCall, armFailure, armStatus, retryPrincipalNotFound } from './arm-call.js';
import type { SetupArm } from './clients.js';
import { roleAssignmentName, setupTag } from './ids.js';
import { type AzurePlan, pendingPrincipal } from './plan.js';
import type { AzureState, AzureTarget } from './read-state.js';
import { assertRights, rightsForPlan } from './rights.js';

export interface ApplyOptions {
  /** where new identities go: --location, else the cluster's */
  location?: string;
  /** PrincipalNotFound retries: tries and first delay (tests shorten it) */
  retry?: { tries?: number; delayMs?: number };
}

export interface AppliedIdentity {
  name: string;
  clientId: string;
  principalId: string;
}

/** What apply made or found: each identity's ids (the GitHub side's variables need the client ids). */
export type AzureApplied = Record<IdentityRole, AppliedIdentity>;

export async function applyAzure(
  arm: SetupArm,
  plan: AzurePlan,
  state: AzureState,
  target: AzureTarget,
  options: ApplyOptions = {},
): Promise<AzureApplied> {
  await assertRights(arm, rightsForPlan(plan, state, target), 'apply the plan');
  const known: Partial<AzureApplied> = {};
  for (const role of ['production', 'preview'] as const) {
    const existing = state.identities[role];
    if (existing)
      known[role] = { name: existing.name, clientId: existing.clientId, principalId: existing.principalId };
  }
  const location = options.location ?? state.cluster.location;
  for (const planned of plan.identities)
    known[planned.identity] = await createIdentity(arm, target, planned.name, location);
  const applied = complete(known);
  for (const change of plan.credentials) {
    const { name, issuer, subject, audiences } = change.credential;
    const identity = applied[change.identity].name;
    // FederatedIdentityCredentials_CreateOrUpdate
    await armCall(`adding federated credential ${name} (subject ${subject}) to identity ${identity}`, () =>
      arm.msi.federatedIdentityCredentials.createOrUpdate(target.resourceGroup, identity, name, {
        issuer,
        subject,
        audiences,
      }),
    );
  }
  for (const role of plan.roles) {
    const principalId =
      role.principalId === pendingPrincipal(role.identity)
        ? applied[role.identity].principalId
        : role.principalId;
    await assignRole(arm, target, role.scope, role.role, principalId, options.retry);
  }
  return applied;
}

async function createIdentity(
  arm: SetupArm,
  target: AzureTarget,
  name: string,
  location: string,
): Promise<AppliedIdentity> {
  // UserAssignedIdentities_CreateOrUpdate
  const made = await armCall(
    `creating managed identity ${name} in resource group ${target.resourceGroup} (${location})`,
    () =>
      arm.msi.userAssignedIdentities.createOrUpdate(target.resourceGroup, name, {
        location,
        tags: { [setupTag]: target.repository },
      }),
    {
      400: `check --location '${location}': it must be an Azure region where the subscription can create resources`,
    },
  );
  if (!made.clientId || !made.principalId)
    throw new Error(
      `managed identity ${name} was created but ARM answered no clientId or principalId; run setup again`,
    );
  return { name, clientId: made.clientId, principalId: made.principalId };
}

/**
 * Assigns `role` on `scope` to `principalId` as a ServicePrincipal (which spares Entra's replication delay in
 * most cases; PrincipalNotFound is retried, bounded). RoleAssignmentExists means the same role is already
 * assigned under another name: the wanted state holds, so it is not an error.
 */
async function assignRole(
  arm: SetupArm,
  target: AzureTarget,
  scope: string,
  role: BuiltInRole,
  principalId: string,
  retry: ApplyOptions['retry'],
): Promise<void> {
  const definition = roleDefinitionId(target.subscriptionId, role);
  const name = roleAssignmentName(scope, definition, principalId);
  try {
    // RoleAssignments_Create
    await retryPrincipalNotFound(
      () =>
        arm.authorization.roleAssignments.create(scope.replace(/^\/+/, ''), name, {
          roleDefinitionId: definition,
          principalId,
          principalType: 'ServicePrincipal',
          description: `${setupTag}: ${target.repository}`,
        }),
      retry,
    );
  } catch (error) {
    if (armStatus(error).code === 'RoleAssignmentExists') return;
    throw armFailure(`assigning ${role} on ${scope} to principal ${principalId}`, error, {
      400:
        armStatus(error).code === 'PrincipalNotFound'
          ? 'Entra ID has not replicated the new identity yet: run setup again in a few minutes'
          : undefined,
    });
  }
}

function complete(known: Partial<AzureApplied>): AzureApplied {
  const { production, preview } = known;
  if (!production || !preview)
    throw new Error(
      `the plan neither creates nor found the ${production ? 'preview' : 'production'} identity; read the state again and re-plan`,
    );
  return { production, preview };
}
