// Role assignments for the ARM stand-in of setup (azure-arm-setup.ts): Microsoft.Authorization 2022-04-01,
// each route following its Azure/azure-rest-api-specs example.

import { type ArmReply, armError, type Denied, lower, ok } from './azure-arm-reply.js';
import type { FakeArmSetup, FakeRoleAssignment } from './azure-arm-setup.js';
import type { RecordedRequest } from './azure-server.js';

// The built-in role definitions the stand-in knows, by id (the same in every tenant), from Microsoft's
// "Azure built-in roles" reference (role-based-access-control/built-in-roles, Containers): kept here apart
// from src/, so that a wrong id there is refused as ARM refuses it. The two Container Registry Repository
// roles are from MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/containers.md
// (their JSON "id" and "name"), and the table of articles/role-based-access-control/built-in-roles.md.
export const builtInRoleDefinitions: Record<string, string> = {
  '7f951dda-4ed3-4680-a7ca-43fe172d538d': 'AcrPull',
  '8311e382-0749-4cb8-b61a-304f252e45ec': 'AcrPush',
  'b93aa761-3e63-49ed-ac28-beffa264f7ac': 'Container Registry Repository Reader',
  '2a1e307c-b015-4ebd-883e-5b7698a07328': 'Container Registry Repository Writer',
  '4abbcc35-e782-43d8-92c5-2d3f1bd2253f': 'Azure Kubernetes Service Cluster User Role',
  '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8': 'Azure Kubernetes Service Cluster Admin Role',
};

export function roleRoute(
  setup: FakeArmSetup,
  r: RecordedRequest,
  scope: string,
  nameRaw: string | undefined,
  body: Record<string, unknown>,
  denied: Denied,
): ArmReply {
  const type = 'Microsoft.Authorization/roleAssignments';
  // properties as RoleAssignmentProperties (authorization-RoleAssignmentsCalls.json, 2022-04-01) has them:
  // condition and conditionVersion only on a conditioned assignment (the examples show none)
  const answer = (a: FakeRoleAssignment) => ({
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      ...(a.description === undefined ? {} : { description: a.description }),
      ...(a.condition === undefined ? {} : { condition: a.condition, conditionVersion: a.conditionVersion }),
    },
    id: `${a.scope}/providers/${type}/${a.name}`,
    type,
    name: a.name,
  });
  if (nameRaw === undefined) {
    // RoleAssignments_ListForScope.json: {"value":[...]}: at, above and below the scope; $filter
    // assignedTo('{id}') or principalId eq '{id}' keeps one principal's, atScope() those at or above the
    // scope (the RoleAssignmentFilterParameter of authorization-RoleAssignmentsCalls.json)
    if (r.method !== 'GET') return armError(405, 'MethodNotAllowed', `${r.method} ${r.path}`);
    const refused = denied(`${type}/read`, scope);
    if (refused) return refused;
    const principal = /(?:assignedTo\('([^']+)'\)|principalId eq '([^']+)')/i.exec(r.query.$filter ?? '');
    const wanted = principal?.[1] ?? principal?.[2];
    const atScope = /^\s*atScope\(\)\s*$/i.test(r.query.$filter ?? '');
    const related = (a: FakeRoleAssignment) =>
      lower(`${scope}/`).startsWith(lower(`${a.scope}/`)) ||
      (!atScope && lower(`${a.scope}/`).startsWith(lower(`${scope}/`)));
    return ok({
      value: setup.roleAssignments
        .filter((a) => related(a) && (wanted === undefined || lower(a.principalId) === lower(wanted)))
        .map(answer),
    });
  }
  const name = decodeURIComponent(nameRaw);
  const found = setup.roleAssignments.find((a) => lower(a.scope) === lower(scope) && a.name === name);
  if (r.method === 'GET')
    return (
      denied(`${type}/read`, scope) ??
      (found
        ? ok(answer(found))
        : armError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`))
    );
  if (r.method === 'DELETE') {
    // RoleAssignments_Delete.json: 200 with the deleted assignment, 204 when there was none
    const refused = denied(`${type}/delete`, scope);
    if (refused) return refused;
    if (!found) return { status: 204 };
    setup.roleAssignments.splice(setup.roleAssignments.indexOf(found), 1);
    return ok(answer(found));
  }
  if (r.method !== 'PUT') return armError(405, 'MethodNotAllowed', `${r.method} ${r.path}`);
  return denied(`${type}/write`, scope) ?? createRole(setup, scope, name, body, found, answer);
}

// RoleAssignments_CreateForResource.json: body {"properties":{"roleDefinitionId","principalId",
// "principalType"}} and, for a conditioned one, "condition" and "conditionVersion" (RoleAssignmentProperties:
// "Currently the only accepted value is '2.0'"); 201 with properties (scope included), id, type, name. The
// same role for the same principal on the same scope under another name: 409 RoleAssignmentExists, whatever
// the conditions (Microsoft's ACR ABAC article has a repository-scoped assignment deleted before one with
// another condition is made).
function createRole(
  setup: FakeArmSetup,
  scope: string,
  name: string,
  body: Record<string, unknown>,
  found: FakeRoleAssignment | undefined,
  answer: (a: FakeRoleAssignment) => unknown,
): ArmReply {
  const props = (body.properties ?? {}) as Partial<FakeRoleAssignment>;
  if (!props.roleDefinitionId || !props.principalId)
    return armError(400, 'InvalidRoleAssignmentRequest', 'roleDefinitionId and principalId are required.');
  const definition = lower(props.roleDefinitionId.split('/').pop() ?? '');
  if (props.condition !== undefined && props.conditionVersion !== '2.0')
    return armError(
      400,
      'InvalidConditionVersion',
      `The condition version '${String(props.conditionVersion)}' is not supported; it must be 2.0.`,
    );
  if (!(definition in builtInRoleDefinitions))
    return armError(
      400,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${definition.replace(/-/g, '')}' does not exist.`,
    );
  const ours = setup.identities.find((i) => i.principalId === props.principalId);
  const tries = (setup.attempts.get(props.principalId) ?? 0) + 1;
  setup.attempts.set(props.principalId, tries);
  if (ours && tries <= setup.principalNotFoundAttempts)
    return armError(
      400,
      'PrincipalNotFound',
      `Principal ${props.principalId.replace(/-/g, '')} does not exist in the directory ${setup.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    );
  const roleGuid = (id: string) => lower(id.split('/').pop() ?? '');
  const same = setup.roleAssignments.find(
    (a) =>
      a !== found &&
      lower(a.scope) === lower(scope) &&
      lower(a.principalId) === lower(props.principalId ?? '') &&
      roleGuid(a.roleDefinitionId) === roleGuid(props.roleDefinitionId ?? ''),
  );
  if (same) return armError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
  if (found) return ok(answer(found));
  const made: FakeRoleAssignment = {
    scope,
    name,
    roleDefinitionId: props.roleDefinitionId,
    principalId: props.principalId,
    principalType: props.principalType,
    description: props.description,
    ...(props.condition === undefined ? {} : { condition: props.condition, conditionVersion: '2.0' }),
  };
  setup.roleAssignments.push(made);
  return { status: 201, json: answer(made) };
}
