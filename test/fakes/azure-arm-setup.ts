// The ARM operations `archetype-deploy setup` uses, for the Azure stand-in (azure-server.ts delegates here):
// user-assigned identities and their federated identity credentials (Microsoft.ManagedIdentity 2023-01-31 and
// later), role assignments (Microsoft.Authorization 2022-04-01), the caller's permissions (2015-07-01) and
// registries (Microsoft.ContainerRegistry 2025-11-01). Each route names the Azure/azure-rest-api-specs example
// whose request and answer it follows. State lives in memory per FakeAzure; tests seed it and read it back.
// The caller's rights (`grants`) are enforced on every operation, as ARM does, so a refused write changes nothing.
import { createHash, randomBytes } from 'node:crypto';
import { type ArmReply, armCaller, armError, type Denied, lower, ok } from './azure-arm-reply.js';
import { roleRoute } from './azure-arm-roles.js';
import type { RecordedRequest } from './azure-server.js';

export type { ArmReply } from './azure-arm-reply.js';

export interface FakeCredential {
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface FakeIdentity {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  clientId: string;
  principalId: string;
  credentials: Map<string, FakeCredential>;
}

export interface FakeRoleAssignment {
  scope: string;
  name: string;
  roleDefinitionId: string;
  principalId: string;
  principalType?: string;
  description?: string;
  condition?: string;
  conditionVersion?: string;
}

export interface FakeRegistry {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  roleAssignmentMode: 'LegacyRegistryPermissions' | 'AbacRepositoryPermissions';
}

/** One of the caller's role assignments, as Permissions - List answers it: what it allows below `scope`. */
export interface Grant {
  scope: string;
  actions: string[];
  notActions: string[];
}

/** The Contributor role's permissions (built-in role b24988ac-...): everything but granting access. */
export const contributor: Omit<Grant, 'scope'> = {
  actions: ['*'],
  notActions: [
    'Microsoft.Authorization/*/Delete',
    'Microsoft.Authorization/*/Write',
    'Microsoft.Authorization/elevateAccess/Action',
    'Microsoft.Blueprint/blueprintAssignments/write',
    'Microsoft.Blueprint/blueprintAssignments/delete',
    'Microsoft.Compute/galleries/share/action',
    'Microsoft.Purview/consents/write',
    'Microsoft.Purview/consents/delete',
  ],
};

const identityPath =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.managedidentity\/userassignedidentities(?:\/([^/]+)(?:\/federatedidentitycredentials(?:\/([^/]+))?)?)?$/i;
const roleAssignmentPath = /^(\/.+?)\/providers\/microsoft\.authorization\/roleassignments(?:\/([^/]+))?$/i;
const permissionsPath =
  /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+.*?)\/providers\/microsoft\.authorization\/permissions$/i;
const registryPath =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerregistry\/registries\/([^/]+)$/i;

/** `*` in an ARM action matches any characters; actions compare case-insensitively. */
function matches(pattern: string, action: string): boolean {
  const re = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`, 'i').test(action);
}

export class FakeArmSetup {
  readonly identities: FakeIdentity[] = [];
  readonly roleAssignments: FakeRoleAssignment[] = [];
  readonly registries: FakeRegistry[] = [];
  /** The caller's rights; by default Owner of everything ('/' is the root of every scope). */
  grants: Grant[] = [{ scope: '/', actions: ['*'], notActions: [] }];
  /**
   * Role assignment PUTs naming an identity made here answer 400 PrincipalNotFound this many times first:
   * Entra ID replicates a new service principal to ARM's directory cache with a delay.
   */
  principalNotFoundAttempts = 0;
  /** role assignment PUTs so far, by principal id */
  readonly attempts = new Map<string, number>();
  private serial = 0;
  /** each stand-in's own: principal ids, like Entra's, never repeat across runs (bindings in the shared
   * cluster name them) */
  private readonly salt = randomBytes(8).toString('hex');

  constructor(
    readonly tenantId: string,
    /** called when an identity's credentials change: the stand-in's token endpoint trusts its subjects */
    private readonly onFederation: (clientId: string, objectId: string, subjects: string[]) => void,
  ) {}

  /** Seed an identity (e.g. one made by hand, untagged) and return it. */
  addIdentity(
    seed: Omit<FakeIdentity, 'clientId' | 'principalId' | 'credentials' | 'location' | 'tags'> &
      Partial<FakeIdentity>,
  ): FakeIdentity {
    const identity: FakeIdentity = {
      location: 'eastus',
      tags: {},
      clientId: this.guid(`client-${seed.name}`),
      principalId: this.guid(`principal-${seed.name}`),
      credentials: new Map(),
      ...seed,
    };
    this.identities.push(identity);
    return identity;
  }

  /** The answer to an ARM request this file serves, or undefined for azure-server.ts's own routes. */
  route(
    r: RecordedRequest,
    token: Record<string, unknown> | undefined,
    audience: string,
  ): ArmReply | undefined {
    const path = r.path.replace(/\/{2,}/g, '/');
    const identity = identityPath.exec(path);
    const role = roleAssignmentPath.exec(path);
    const permissions = permissionsPath.exec(path);
    const registry = registryPath.exec(path);
    if (!identity && !role && !permissions && !registry) return undefined;
    const caller = armCaller(token, audience, r.query);
    if ('refused' in caller) return caller.refused;
    const { claims } = caller;
    // GetPermissions.json (authorization 2015-07-01 and 2022-04-01): {"value":[{"actions","notActions"}]},
    // one entry per role assignment of the caller at or above the scope; anyone may read their own
    if (permissions && r.method === 'GET')
      return {
        status: 200,
        json: {
          value: this.grantsAt(permissions[1] ?? '').map((g) => ({
            actions: g.actions,
            notActions: g.notActions,
            dataActions: [],
            notDataActions: [],
          })),
        },
      };
    const denied = (action: string, scope: string): ArmReply | undefined =>
      this.allowed(action, scope)
        ? undefined
        : armError(
            403,
            'AuthorizationFailed',
            `The client '${String(claims.appid)}' with object id '${String(claims.oid)}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
          );
    const body = r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {};
    if (identity) return this.identityRoute(r.method, path, identity, body, denied);
    if (role) return roleRoute(this, r, role[1] ?? '', role[2], body, denied);
    if (registry && r.method === 'GET') {
      const [, sub = '', group = '', name = ''] = registry.map(decodeURIComponent);
      return (
        denied('Microsoft.ContainerRegistry/registries/read', path) ?? this.registryGet(sub, group, name)
      );
    }
    if (registry && r.method === 'PATCH') {
      const [, sub = '', group = '', name = ''] = registry.map(decodeURIComponent);
      return (
        denied('Microsoft.ContainerRegistry/registries/write', path) ??
        this.registryPatch(sub, group, name, body)
      );
    }
    return armError(405, 'MethodNotAllowed', `${r.method} ${path} is not served by the stand-in`);
  }

  /** The grants at or above `scope` (ARM's inheritance: a role on a resource group covers what is in it). */
  private grantsAt(scope: string): Grant[] {
    return this.grants.filter((g) => g.scope === '/' || lower(`${scope}/`).startsWith(lower(`${g.scope}/`)));
  }

  private allowed(action: string, scope: string): boolean {
    return this.grantsAt(scope).some(
      (g) => g.actions.some((a) => matches(a, action)) && !g.notActions.some((n) => matches(n, action)),
    );
  }

  private identityRoute(
    method: string,
    path: string,
    [, subRaw, groupRaw, nameRaw, ficRaw]: RegExpExecArray,
    body: Record<string, unknown>,
    denied: Denied,
  ): ArmReply {
    const [sub, group] = [decodeURIComponent(subRaw ?? ''), decodeURIComponent(groupRaw ?? '')];
    const type = 'Microsoft.ManagedIdentity/userAssignedIdentities';
    const inGroup = (i: FakeIdentity) => i.subscriptionId === sub && lower(i.resourceGroup) === lower(group);
    if (nameRaw === undefined) {
      // IdentityListByResourceGroup.json: {"value":[identity...]} (no nextLink: one page)
      if (method !== 'GET') return armError(405, 'MethodNotAllowed', `${method} ${path}`);
      return (
        denied(`${type}/read`, path) ?? {
          status: 200,
          json: { value: this.identities.filter(inGroup).map((i) => this.identityBody(i)) },
        }
      );
    }
    const name = decodeURIComponent(nameRaw);
    const found = this.identities.find((i) => inGroup(i) && lower(i.name) === lower(name));
    const identityId = `/subscriptions/${sub}/resourcegroups/${group}/providers/${type}/${name}`;
    const notFound = armError(
      404,
      'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
    if (/\/federatedidentitycredentials(\/|$)/i.test(path))
      return this.credentialRoute(method, path, found, ficRaw, body, denied);
    if (method === 'GET')
      return denied(`${type}/read`, identityId) ?? (found ? ok(this.identityBody(found)) : notFound);
    if (method === 'DELETE') {
      // IdentityDelete.json: 200, or 204 when there was nothing to delete
      const refused = denied(`${type}/delete`, identityId);
      if (refused) return refused;
      if (!found) return { status: 204 };
      this.identities.splice(this.identities.indexOf(found), 1);
      return { status: 200 };
    }
    if (method !== 'PUT') return armError(405, 'MethodNotAllowed', `${method} ${path}`);
    // IdentityCreate.json: body {"location","tags"}; 201 with id, name, type, location, tags and
    // properties {tenantId, principalId, clientId}; 200 when it existed (tags replaced, ids kept)
    const refused = denied(`${type}/write`, identityId);
    if (refused) return refused;
    if (typeof body.location !== 'string')
      return armError(400, 'LocationRequired', 'The location property is required for this definition.');
    const tags = (body.tags ?? {}) as Record<string, string>;
    if (found) {
      found.tags = tags;
      return ok(this.identityBody(found));
    }
    const made = this.addIdentity({
      subscriptionId: sub,
      resourceGroup: group,
      name,
      location: body.location,
      tags,
    });
    return { status: 201, json: this.identityBody(made) };
  }

  private credentialRoute(
    method: string,
    path: string,
    identity: FakeIdentity | undefined,
    ficRaw: string | undefined,
    body: Record<string, unknown>,
    denied: Denied,
  ): ArmReply {
    const type = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';
    const action = { GET: 'read', PUT: 'write', DELETE: 'delete' }[method];
    if (!action) return armError(405, 'MethodNotAllowed', `${method} ${path}`);
    const refused = denied(`${type}/${action}`, path);
    if (refused) return refused;
    if (!identity)
      return armError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities' of ${path} was not found.`,
      );
    const base = `${this.identityId(identity)}/federatedIdentityCredentials`;
    const answer = (name: string, c: FakeCredential) => ({
      id: `${base}/${name}`,
      name,
      type,
      properties: { issuer: c.issuer, subject: c.subject, audiences: c.audiences },
    });
    // FederatedIdentityCredentialList.json: {"value":[credential...]}
    if (ficRaw === undefined) {
      if (method !== 'GET') return armError(405, 'MethodNotAllowed', `${method} ${path}`);
      return ok({ value: [...identity.credentials].map(([n, c]) => answer(n, c)) });
    }
    const name = decodeURIComponent(ficRaw);
    const found = identity.credentials.get(name);
    // FederatedIdentityCredentialGet.json / FederatedIdentityCredentialDelete.json (200, 204 when absent)
    if (method === 'GET')
      return found
        ? ok(answer(name, found))
        : armError(404, 'NotFound', `Federated identity credential '${name}' was not found.`);
    if (method === 'DELETE') {
      if (!identity.credentials.delete(name)) return { status: 204 };
      this.federationChanged(identity);
      return { status: 200 };
    }
    // FederatedIdentityCredentialCreate.json: body {"properties":{"issuer","subject","audiences"}}; 201, or
    // 200 replacing one of that name. Entra refuses a second credential with one issuer and subject (the
    // wording is not in the examples; the code and status are what ARM answers to a bad request).
    const props = (body.properties ?? {}) as Partial<FakeCredential>;
    if (!props.issuer || !props.subject || !Array.isArray(props.audiences))
      return armError(
        400,
        'BadRequest',
        'properties.issuer, properties.subject and properties.audiences are required.',
      );
    const twin = [...identity.credentials].find(
      ([n, c]) => n !== name && c.issuer === props.issuer && c.subject === props.subject,
    );
    if (twin)
      return armError(
        400,
        'BadRequest',
        `Federated identity credential '${twin[0]}' already has issuer '${props.issuer}' and subject '${props.subject}'.`,
      );
    const credential = { issuer: props.issuer, subject: props.subject, audiences: props.audiences };
    identity.credentials.set(name, credential);
    this.federationChanged(identity);
    return { status: found ? 200 : 201, json: answer(name, credential) };
  }

  // RegistryUpdate.json (containerregistry 2025-11-01): PATCH {"properties":{"roleAssignmentMode":...}}
  // (with tags, sku, adminUserEnabled there; each optional); 200 with the registry as it now is
  private registryPatch(sub: string, group: string, name: string, body: Record<string, unknown>): ArmReply {
    const found = this.findRegistry(sub, group, name);
    if (!found) return this.registryGet(sub, group, name);
    const mode = (body.properties as { roleAssignmentMode?: unknown } | undefined)?.roleAssignmentMode;
    if (mode !== undefined) {
      if (mode !== 'AbacRepositoryPermissions' && mode !== 'LegacyRegistryPermissions')
        return armError(
          400,
          'InvalidParameter',
          `The value '${String(mode)}' of properties.roleAssignmentMode is not valid.`,
        );
      found.roleAssignmentMode = mode;
    }
    return this.registryGet(sub, group, name);
  }

  private findRegistry(sub: string, group: string, name: string): FakeRegistry | undefined {
    return this.registries.find(
      (g) =>
        g.subscriptionId === sub && lower(g.resourceGroup) === lower(group) && lower(g.name) === lower(name),
    );
  }

  // RegistryGet.json (containerregistry 2025-11-01), trimmed: the fields setup reads, roleAssignmentMode
  // among them
  private registryGet(sub: string, group: string, name: string): ArmReply {
    const found = this.findRegistry(sub, group, name);
    if (!found)
      return armError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ContainerRegistry/registries/${name}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    return ok({
      id: `/subscriptions/${sub}/resourceGroups/${found.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${found.name}`,
      name: found.name,
      type: 'Microsoft.ContainerRegistry/registries',
      location: found.location,
      tags: {},
      sku: { name: 'Standard', tier: 'Standard' },
      properties: {
        loginServer: `${lower(found.name)}.azurecr.io`,
        provisioningState: 'Succeeded',
        adminUserEnabled: false,
        publicNetworkAccess: 'Enabled',
        anonymousPullEnabled: false,
        roleAssignmentMode: found.roleAssignmentMode,
      },
    });
  }

  private identityId(i: FakeIdentity): string {
    return `/subscriptions/${i.subscriptionId}/resourcegroups/${i.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.name}`;
  }

  private identityBody(i: FakeIdentity) {
    return {
      id: this.identityId(i),
      location: i.location,
      name: i.name,
      properties: { clientId: i.clientId, principalId: i.principalId, tenantId: this.tenantId },
      tags: i.tags,
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    };
  }

  private federationChanged(i: FakeIdentity): void {
    this.onFederation(
      i.clientId,
      i.principalId,
      [...i.credentials.values()].map((c) => c.subject),
    );
  }

  /** A GUID unique to this stand-in and `seed`, like the ids Entra gives. */
  private guid(seed: string): string {
    const h = createHash('sha256')
      .update(`${this.salt}#${seed}#${++this.serial}`)
      .digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
