// The roles setup wants on the registry and the cluster, pure: on a registry without ABAC, AcrPush for
// production (AcrPush cannot be limited to a repository, so previews get none); in ACR's ABAC repository
// permissions mode, Container Registry Repository Writer limited by a condition to each identity's own
// repository (docs/github-setup.md step 3); the kubelet's pull right in either mode; and with
// --switch-registry-to-abac, every AcrPull/AcrPush holder's right again in ABAC terms before the switch.
import {
  type BuiltInRole,
  builtInRoles,
  type Grantee,
  type RoleAssignment,
  roleGuid,
  type WantedRole,
} from './plan.js';

const repositoryActions = 'Microsoft.ContainerRegistry/registries/repositories';
const repositoryName = '@Request[Microsoft.ContainerRegistry/registries/repositories:name]';

/**
 * The data actions of each ABAC-enabled role (Microsoft's built-in roles reference, Containers), in the order
 * the condition lists them. A condition must name every action of the role: an action it leaves out is
 * granted on every repository.
 */
const roleActions: Partial<Record<BuiltInRole, string[]>> = {
  'Container Registry Repository Reader': ['content/read', 'metadata/read'],
  'Container Registry Repository Writer': [
    'content/read',
    'content/write',
    'metadata/read',
    'metadata/write',
  ],
};

/**
 * The condition that limits an ABAC-enabled `role` to `repositories`, in the form of Microsoft's "Azure ABAC
 * repository permissions in Azure Container Registry" (MicrosoftDocs/azure-management-docs,
 * container-registry-rbac-abac-repository-permissions.md), on one line as docs/github-setup.md step 3 writes it:
 * any other action passes; the role's actions only on a repository of that name.
 */
export function repositoryCondition(role: BuiltInRole, repositories: string[]): string {
  const actions = roleActions[role];
  if (!actions)
    throw new Error(`${role} is not an ABAC-enabled registry role; it takes no repository condition`);
  const notActions = actions.map((a) => `!(ActionMatches{'${repositoryActions}/${a}'})`).join(' AND ');
  const names = repositories.map((r) => `${repositoryName} StringEqualsIgnoreCase '${r}'`).join(' OR ');
  return `((${notActions}) OR (${names}))`;
}

export interface RoleInput {
  subscriptionId: string;
  registryId: string;
  /** true when the registry is in ABAC repository-permissions mode */
  registryAbac: boolean;
  clusterId: string;
  principals: { production: string; preview: string };
  /** the registry repositories production and previews push to (the action's image-name, preview-image-name) */
  repositories: { production: string; preview: string };
  /** the cluster's kubelet identity (identityProfile.kubeletidentity.objectId), when it has one */
  kubelet?: { principalId: string; assignments: RoleAssignment[] };
  /** --switch-registry-to-abac */
  switchToAbac: boolean;
  /** every role assignment at or above the registry ($filter=atScope()); read only when switching */
  registryAssignments: RoleAssignment[];
}

export interface RolePlan {
  wanted: WantedRole[];
  /** true when the plan switches the registry to ABAC mode, after the re-grants among `wanted` */
  switchRegistry: boolean;
  /** what setup will not do in this mode, each with why and the way out */
  refusals: string[];
}

const pullRoles: Record<'legacy' | 'abac', string[]> = {
  legacy: [builtInRoles.AcrPull, builtInRoles.AcrPush],
  // Repository Contributor (2efddaa5-..., the same reference) reads too
  abac: [
    builtInRoles['Container Registry Repository Reader'],
    builtInRoles['Container Registry Repository Writer'],
    '2efddaa5-3f1f-4df3-97df-af3f13818f4c',
  ],
};

/** Whether an assignment at `scope` reaches `target` (the same scope, or one above it). */
export function reaches(scope: string, target: string): boolean {
  const l = (s: string) => `${s.toLowerCase().replace(/\/+$/, '')}/`;
  return l(target).startsWith(l(scope));
}

export function wantedRoles(input: RoleInput): RolePlan {
  const wanted: WantedRole[] = [];
  const refusals: string[] = [];
  const abac = input.registryAbac || input.switchToAbac;
  const switchRegistry = !input.registryAbac && input.switchToAbac;
  const regrants = switchRegistry ? regrantHolders(input) : [];
  wanted.push(...regrants);
  if (abac)
    for (const identity of ['production', 'preview'] as const)
      wanted.push(repositoryRole(input, identity, 'Container Registry Repository Writer'));
  else {
    wanted.push({
      identity: 'production',
      role: 'AcrPush',
      scope: input.registryId,
      principalId: input.principals.production,
    });
    refusals.push(
      `registry ${input.registryId} is not in ABAC mode, where AcrPush cannot be limited to one repository: the preview identity gets no push right there (a pull request could overwrite production's images); use a separate registry for previews, or run setup with --switch-registry-to-abac, which first grants every AcrPull/AcrPush holder the same right in ABAC terms (docs/github-setup.md step 3)`,
    );
  }
  const kubelet = kubeletRole(input, abac, regrants);
  if (kubelet.role) wanted.push(kubelet.role);
  if (kubelet.refusal) refusals.push(kubelet.refusal);
  for (const identity of ['production', 'preview'] as const)
    wanted.push({
      identity,
      role: 'Azure Kubernetes Service Cluster User Role',
      scope: input.clusterId,
      principalId: input.principals[identity],
    });
  return { wanted, switchRegistry, refusals };
}

function repositoryRole(
  input: RoleInput,
  identity: Grantee & ('production' | 'preview'),
  role: BuiltInRole,
): WantedRole {
  const repository = input.repositories[identity];
  return {
    identity,
    role,
    scope: input.registryId,
    principalId: input.principals[identity],
    condition: repositoryCondition(role, [repository]),
    repositories: [repository],
  };
}

/**
 * The kubelet pulls every pod's image: without a pull right on the registry, pods stay in ImagePullBackOff.
 * It holds one when an assignment at or above the registry gives AcrPull/AcrPush (without ABAC), or a
 * repository role without a condition or with exactly setup's (ABAC; a re-grant of its AcrPull counts).
 */
function kubeletRole(
  input: RoleInput,
  abac: boolean,
  regrants: WantedRole[],
): { role?: WantedRole; refusal?: string } {
  if (!input.kubelet)
    return {
      refusal: `cluster ${input.clusterId} has no kubelet identity (identityProfile.kubeletidentity; a cluster with a service principal): its pull right on registry ${input.registryId} is not checked; give the principal its nodes pull with ${abac ? 'Container Registry Repository Reader' : 'AcrPull'} there`,
    };
  const { principalId, assignments } = input.kubelet;
  const repositories = [input.repositories.production, input.repositories.preview];
  const reader: BuiltInRole = abac ? 'Container Registry Repository Reader' : 'AcrPull';
  const condition = abac ? repositoryCondition(reader, repositories) : undefined;
  const holds = assignments.some(
    (a) =>
      reaches(a.scope, input.registryId) &&
      (abac ? pullRoles.abac : pullRoles.legacy).includes(roleGuid(a.roleDefinitionId)) &&
      (!a.condition || a.condition.trim() === condition),
  );
  if (holds || regrants.some((r) => r.principalId.toLowerCase() === principalId.toLowerCase())) return {};
  return {
    role: {
      identity: 'kubelet',
      role: reader,
      scope: input.registryId,
      principalId,
      principalType: 'ServicePrincipal',
      ...(condition ? { condition, repositories } : {}),
      why: `the nodes pull the app's images as the kubelet identity, which holds no pull right on the registry${abac ? ' that ABAC mode honours' : ''}: without it every pod stays in ImagePullBackOff`,
    },
  };
}

/**
 * Every principal but setup's identities that holds AcrPull or AcrPush at or above the registry, given
 * Repository Reader (AcrPull) or Writer (AcrPush) on the registry without a condition: all repositories, as
 * before. ABAC mode honours neither AcrPull nor AcrPush, so without this they lose access at the switch.
 */
function regrantHolders(input: RoleInput): WantedRole[] {
  const ours = new Set([input.principals.production, input.principals.preview].map((p) => p.toLowerCase()));
  const byPrincipal = new Map<string, { push: boolean; from: RoleAssignment[] }>();
  for (const a of input.registryAssignments) {
    const role = roleGuid(a.roleDefinitionId);
    if (!pullRoles.legacy.includes(role) || !reaches(a.scope, input.registryId)) continue;
    if (ours.has(a.principalId.toLowerCase())) continue;
    const held = byPrincipal.get(a.principalId) ?? { push: false, from: [] };
    held.push ||= role === builtInRoles.AcrPush;
    held.from.push(a);
    byPrincipal.set(a.principalId, held);
  }
  const wanted: WantedRole[] = [];
  for (const [principalId, held] of byPrincipal) {
    const role: BuiltInRole = held.push
      ? 'Container Registry Repository Writer'
      : 'Container Registry Repository Reader';
    const old = held.push ? 'AcrPush' : 'AcrPull';
    const where = held.from
      .filter((a) => roleGuid(a.roleDefinitionId) === builtInRoles[old])
      .map((a) => a.scope)
      .join(', ');
    wanted.push({
      identity: principalId === input.kubelet?.principalId ? 'kubelet' : 'holder',
      role,
      scope: input.registryId,
      principalId,
      principalType: held.from[0]?.principalType,
      regrantOf: old,
      why: `it holds ${old} on ${where}, which ABAC mode no longer honours`,
    });
  }
  return wanted;
}
