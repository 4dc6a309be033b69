// Removes what setup made, and only that: the identities in the resource group that carry setup's tag with
// this repository as its value, and those identities' role assignments on the registry and the cluster
// (deleted first: an identity's deletion leaves its assignments behind as "unknown" principals). An identity
// of the same name without the tag, made by someone else, stays. On the registry, the assignments setup made
// for the cluster's kubelet (their description names setup and the repository) go too; those it re-granted
// to AcrPull/AcrPush holders when it switched the registry to ABAC stay, and so does the registry's mode:
// switching back would end every repository-scoped role, and the holders would lose their access.
import { all, armCall } from './arm-call.js';
import type { SetupArm } from './clients.js';
import { clusterId, registryId, setupTag } from './ids.js';
import { type AzureTarget, readAssignmentsAt, readRoleAssignments } from './read-state.js';
import { assertRights, rightsForTeardown } from './rights.js';

export interface TeardownPlan {
  identities: Array<{ name: string; principalId: string }>;
  roleAssignments: Array<{ scope: string; name: string; roleDefinitionId: string; principalId: string }>;
  /** what teardown leaves on purpose, and why */
  kept: string[];
}

/** What teardown would delete, read from ARM. */
export async function planTeardown(arm: SetupArm, target: AzureTarget): Promise<TeardownPlan> {
  // UserAssignedIdentities_ListByResourceGroup
  const listed = await armCall(
    `listing the managed identities of resource group ${target.resourceGroup}`,
    () => all(arm.msi.userAssignedIdentities.listByResourceGroup(target.resourceGroup)),
  );
  const identities = listed
    .filter((i) => i.tags?.[setupTag] === target.repository && i.name && i.principalId)
    .map((i) => ({ name: i.name ?? '', principalId: i.principalId ?? '' }));
  const scopes = [
    registryId(target.subscriptionId, target.resourceGroup, target.registry),
    clusterId(target.subscriptionId, target.cluster.resourceGroup, target.cluster.name),
  ];
  const seen = new Map<string, TeardownPlan['roleAssignments'][number]>();
  for (const identity of identities)
    for (const scope of scopes)
      for (const a of await readRoleAssignments(arm, scope, identity.principalId))
        seen.set(`${a.scope.toLowerCase()}|${a.name}`, a);
  const [registry] = scopes;
  const tag = `${setupTag}: ${target.repository}`;
  const onRegistry = registry ? await readAssignmentsAt(arm, registry) : [];
  const regranted: string[] = [];
  for (const a of onRegistry) {
    if (a.scope.toLowerCase() !== registry?.toLowerCase()) continue;
    // the kubelet's pull right (assignmentDescription in apply.ts writes the tag alone)
    if (a.description === tag) seen.set(`${a.scope.toLowerCase()}|${a.name}`, a);
    else if (a.description?.startsWith(`${tag}: `)) regranted.push(a.name);
  }
  const kept =
    regranted.length > 0
      ? [
          `registry ${registry} stays in ABAC repository permissions mode: teardown never switches it back, which would end every repository-scoped role there; the ${regranted.length} role assignment(s) setup re-granted to its former AcrPull/AcrPush holders stay too, or they would lose their access (${regranted.join(', ')})`,
        ]
      : [];
  return { identities, roleAssignments: [...seen.values()], kept };
}

export function renderTeardown(plan: TeardownPlan): string[] {
  const lines = [
    ...plan.roleAssignments.map(
      (a) => `- role assignment ${a.name} of principal ${a.principalId} on ${a.scope}`,
    ),
    ...plan.identities.map((i) => `- managed identity ${i.name} (tagged ${setupTag})`),
  ];
  return lines.length > 0 ? lines : ['nothing to remove'];
}

/** Deletes what `plan` lists, after checking the caller may delete all of it. */
export async function applyTeardown(arm: SetupArm, target: AzureTarget, plan: TeardownPlan): Promise<void> {
  await assertRights(
    arm,
    rightsForTeardown(
      target,
      plan.identities.map((i) => i.name),
      plan.roleAssignments.map((a) => a.scope),
    ),
    'tear down',
  );
  // RoleAssignments_Delete
  for (const a of plan.roleAssignments)
    await armCall(`deleting role assignment ${a.name} on ${a.scope}`, () =>
      arm.authorization.roleAssignments.delete(a.scope.replace(/^\/+/, ''), a.name),
    );
  // UserAssignedIdentities_Delete: its federated credentials go with it
  for (const i of plan.identities)
    await armCall(`deleting managed identity ${i.name} in resource group ${target.resourceGroup}`, () =>
      arm.msi.userAssignedIdentities.delete(target.resourceGroup, i.name),
    );
}
