// The caller's own rights, checked before anything changes: Microsoft.Authorization/permissions answers, per
// scope, the actions and notActions of each of the caller's role assignments there (wildcards allowed). An
// action is allowed when one assignment's actions match it and that assignment's notActions do not.
// Each right setup lacks is reported with its scope and who can grant it.
import type { IdentityRole } from '../federation-plan.js';
import { all, armCall } from './arm-call.js';
import type { SetupArm } from './clients.js';
import { resourceGroupId } from './ids.js';
import type { AzurePlan } from './plan.js';
import type { AzureState, AzureTarget } from './read-state.js';

export interface Permission {
  actions: string[];
  notActions: string[];
}

export interface Right {
  scope: string;
  action: string;
  /** what setup needs it for */
  why: string;
  /** the least built-in role that holds it */
  role: string;
}

export const rights = {
  identityWrite: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
  identityDelete: 'Microsoft.ManagedIdentity/userAssignedIdentities/delete',
  credentialWrite: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
  roleWrite: 'Microsoft.Authorization/roleAssignments/write',
  roleDelete: 'Microsoft.Authorization/roleAssignments/delete',
  registryWrite: 'Microsoft.ContainerRegistry/registries/write',
} as const;

/** ARM's action matching: case-insensitive, `*` standing for any characters. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`, 'i').test(action);
}

export function allows(permissions: Permission[], action: string): boolean {
  return permissions.some(
    (p) =>
      p.actions.some((a) => actionMatches(a, action)) && !p.notActions.some((n) => actionMatches(n, action)),
  );
}

/** The rights applying `plan` needs, each once per scope. */
export function rightsForPlan(plan: AzurePlan, state: AzureState, target: AzureTarget): Right[] {
  const group = resourceGroupId(target.subscriptionId, target.resourceGroup);
  const wanted: Right[] = [];
  if (plan.identities.length > 0)
    wanted.push({
      scope: group,
      action: rights.identityWrite,
      why: `to create the identities ${plan.identities.map((i) => i.name).join(', ')}`,
      role: 'Managed Identity Contributor',
    });
  for (const change of plan.credentials)
    wanted.push({
      scope: identityScope(state, change.identity, group),
      action: rights.credentialWrite,
      why: `to add federated credentials to the ${change.identity} identity`,
      role: 'Managed Identity Contributor',
    });
  for (const role of plan.roles)
    wanted.push({
      scope: role.scope,
      action: rights.roleWrite,
      why: `to assign ${role.role} there`,
      role: 'Role Based Access Control Administrator',
    });
  if (plan.switchRegistry)
    wanted.push({
      scope: plan.switchRegistry,
      action: rights.registryWrite,
      why: 'to switch the registry to ABAC repository permissions',
      role: 'Container Registry Contributor and Data Access Configuration Administrator',
    });
  return unique(wanted);
}

/** The rights teardown needs: deleting the identities and the role assignments it found. */
export function rightsForTeardown(
  target: AzureTarget,
  identities: string[],
  assignmentScopes: string[],
): Right[] {
  const wanted: Right[] = identities.length
    ? [
        {
          scope: resourceGroupId(target.subscriptionId, target.resourceGroup),
          action: rights.identityDelete,
          why: `to delete the identities ${identities.join(', ')}`,
          role: 'Managed Identity Contributor',
        },
      ]
    : [];
  for (const scope of assignmentScopes)
    wanted.push({
      scope,
      action: rights.roleDelete,
      why: 'to delete the role assignments setup made there',
      role: 'Role Based Access Control Administrator',
    });
  return unique(wanted);
}

/** The rights of `wanted` that `permissions` (by scope, as readPermissions answers) do not allow. */
export function missingRights(wanted: Right[], permissions: Map<string, Permission[]>): Right[] {
  return wanted.filter((r) => !allows(permissions.get(r.scope.toLowerCase()) ?? [], r.action));
}

/** "scope, the right missing, who can grant it", one line per right. */
export function describeMissing(missing: Right[]): string[] {
  return missing.map(
    (r) =>
      `on ${r.scope}: missing ${r.action} (${r.why}); an Owner, User Access Administrator or Role Based Access Control Administrator of that scope can grant it, e.g. with the role ${r.role}`,
  );
}

/** The caller's permissions on each scope of `wanted`, keyed by the scope in lower case. */
export async function readPermissions(arm: SetupArm, wanted: Right[]): Promise<Map<string, Permission[]>> {
  const byScope = new Map<string, Permission[]>();
  for (const scope of new Set(wanted.map((r) => r.scope))) {
    const found = await armCall(`reading your permissions on ${scope}`, () => all(permissionsOf(arm, scope)));
    byScope.set(
      scope.toLowerCase(),
      found.map((p) => ({ actions: p.actions ?? [], notActions: p.notActions ?? [] })),
    );
  }
  return byScope;
}

/** The missing rights of `wanted`, read from ARM; [] when the caller holds them all. */
export async function checkRights(arm: SetupArm, wanted: Right[]): Promise<Right[]> {
  return missingRights(wanted, await readPermissions(arm, wanted));
}

/** Throws, naming every missing right, unless the caller holds all of `wanted`. */
export async function assertRights(arm: SetupArm, wanted: Right[], doing: string): Promise<void> {
  const missing = await checkRights(arm, wanted);
  if (missing.length > 0)
    throw new Error(
      `setup cannot ${doing}, and changed nothing: you lack ${missing.length === 1 ? 'a right' : 'rights'} it needs\n${describeMissing(missing).join('\n')}`,
    );
}

function identityScope(state: AzureState, identity: IdentityRole, group: string): string {
  return state.identities[identity]?.id ?? group;
}

// Permissions_ListForResourceGroup or Permissions_ListForResource, by the scope's shape
function permissionsOf(arm: SetupArm, scope: string) {
  const parts = scope.split('/').filter(Boolean);
  const [, , , group, providers, namespace, ...rest] = parts;
  if (!group) throw new Error(`'${scope}' is not a resource group or resource id`);
  if (providers === undefined) return arm.authorization.permissions.listForResourceGroup(group);
  const name = rest.pop();
  const type = rest.pop();
  if (!namespace || !type || !name) throw new Error(`'${scope}' is not a resource id`);
  // an empty parent path makes "//" in the URL, which ARM reads as none
  return arm.authorization.permissions.listForResource(group, namespace, rest.join('/'), type, name);
}

function unique(wanted: Right[]): Right[] {
  const seen = new Map<string, Right>();
  for (const r of wanted) {
    const key = `${r.scope.toLowerCase()}|${r.action}`;
    const before = seen.get(key);
    seen.set(key, before && before.why !== r.why ? { ...before, why: `${before.why}; ${r.why}` } : r);
  }
  return [...seen.values()];
}
