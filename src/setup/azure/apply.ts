// Applies the Azure plan: first the caller's rights for all of it (nothing changes when one is missing), then
// the identities (tagged with setup's tag), their federated credentials, and the role assignments under
// names hashed from what they grant, so a re-run neither duplicates nor fails. With a switch to ABAC, the
// re-grants of AcrPull/AcrPush come first, then the registry's PATCH, then the repository-scoped roles: no
// holder is without access in between.
import type { IdentityRole } from '../federation-plan.js';
import { roleDefinitionId, type WantedRole } from '../plan.js';
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
  const principal = (role: WantedRole) =>
    (role.identity === 'production' || role.identity === 'preview') &&
    role.principalId === pendingPrincipal(role.identity)
      ? applied[role.identity].principalId
      : role.principalId;
  for (const role of plan.roles.filter((r) => r.regrantOf))
    await assignRole(arm, target, role, principal(role), options.retry);
  if (plan.switchRegistry) await switchToAbac(arm, target, plan.switchRegistry);
  for (const role of plan.roles.filter((r) => !r.regrantOf))
    await assignRole(arm, target, role, principal(role), options.retry);
  return applied;
}

/** Registries_Update (RegistryUpdate.json): PATCH {"properties":{"roleAssignmentMode":"AbacRepositoryPermissions"}}. */
async function switchToAbac(arm: SetupArm, target: AzureTarget, registryId: string): Promise<void> {
  await armCall(
    `switching registry ${registryId} to ABAC repository permissions (roleAssignmentMode AbacRepositoryPermissions)`,
    () =>
      arm.registries.registries.update(
        target.resourceGroup,
        target.registry,
        { roleAssignmentMode: 'AbacRepositoryPermissions' },
        { updateIntervalInMs: 2000 },
      ),
  );
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

/** What setup writes in a role assignment's description: its tag and repository; a re-grant says so. */
export function assignmentDescription(repository: string, role: Pick<WantedRole, 'regrantOf'>): string {
  return role.regrantOf
    ? `${setupTag}: ${repository}: ${role.regrantOf} re-granted for the switch to ABAC repository permissions`
    : `${setupTag}: ${repository}`;
}

/**
 * Assigns `role` to `principalId`, as a ServicePrincipal unless the role names the holder's type (which spares
 * Entra's replication delay in most cases; PrincipalNotFound is retried, bounded), with its ABAC condition.
 * RoleAssignmentExists means the same role is already assigned under another name: without a condition the
 * wanted state holds; with one, the other may lack or widen it, so it is an error.
 */
async function assignRole(
  arm: SetupArm,
  target: AzureTarget,
  role: WantedRole,
  principalId: string,
  retry: ApplyOptions['retry'],
): Promise<void> {
  const { scope, condition } = role;
  const definition = roleDefinitionId(target.subscriptionId, role.role);
  const name = roleAssignmentName(scope, definition, principalId);
  try {
    // RoleAssignments_Create
    await retryPrincipalNotFound(
      () =>
        arm.authorization.roleAssignments.create(scope.replace(/^\/+/, ''), name, {
          roleDefinitionId: definition,
          principalId,
          principalType: (role.principalType ?? 'ServicePrincipal') as 'ServicePrincipal',
          description: assignmentDescription(target.repository, role),
          ...(condition ? { condition, conditionVersion: '2.0' } : {}),
        }),
      retry,
    );
  } catch (error) {
    if (armStatus(error).code === 'RoleAssignmentExists' && !condition) return;
    throw armFailure(`assigning ${role.role} on ${scope} to principal ${principalId}`, error, {
      409: condition
        ? `the principal holds ${role.role} there under another condition or none, and ARM keeps one: delete that assignment and run setup again`
        : undefined,
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
