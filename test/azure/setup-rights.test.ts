// The caller's rights, checked before setup changes anything: the pure matcher, and the adapter on the
// stand-in's Permissions - List (GetPermissions.json: {"value":[{"actions","notActions"}]}).
import { applyAzure } from '../../src/setup/azure/apply.js';
import type { SetupArm } from '../../src/setup/azure/clients.js';
import { roleAssignmentName } from '../../src/setup/azure/ids.js';
import { planAzure } from '../../src/setup/azure/plan.js';
import { readAzureState } from '../../src/setup/azure/read-state.js';
import {
  actionMatches,
  allows,
  checkRights,
  describeMissing,
  rights,
  rightsForPlan,
} from '../../src/setup/azure/rights.js';
import { contributor } from '../fakes/azure-arm-setup.js';
import type { FakeAzure } from '../fakes/azure-server.js';
import { clusterPath, registryPath, startAzure, sub, target, wanted, writes } from './setup-fixture.js';

describe('allows', () => {
  it('matches wildcards case-insensitively and lets notActions take away', () => {
    expect(actionMatches('Microsoft.Authorization/*/Write', rights.roleWrite)).toBe(true);
    expect(actionMatches('Microsoft.ManagedIdentity/*', rights.credentialWrite)).toBe(true);
    expect(actionMatches('Microsoft.ManagedIdentity/*/read', rights.identityWrite)).toBe(false);
    expect(allows([contributor], rights.identityWrite)).toBe(true);
    expect(allows([contributor], rights.roleWrite)).toBe(false);
    // another assignment (Role Based Access Control Administrator) adds what Contributor's notActions remove
    expect(
      allows(
        [contributor, { actions: ['Microsoft.Authorization/roleAssignments/*'], notActions: [] }],
        rights.roleWrite,
      ),
    ).toBe(true);
    expect(allows([], rights.identityWrite)).toBe(false);
  });

  it('describes a missing right with scope, right and who can grant it', () => {
    expect(
      describeMissing([
        {
          scope: registryPath,
          action: rights.roleWrite,
          why: 'to assign AcrPush there',
          role: 'Role Based Access Control Administrator',
        },
      ]),
    ).toEqual([
      `on ${registryPath}: missing Microsoft.Authorization/roleAssignments/write (to assign AcrPush there); an Owner, User Access Administrator or Role Based Access Control Administrator of that scope can grant it, e.g. with the role Role Based Access Control Administrator`,
    ]);
  });
});

describe('rights on the stand-in', () => {
  let fake: FakeAzure;
  let arm: SetupArm;
  beforeEach(async () => {
    ({ fake, arm } = await startAzure());
  });
  afterEach(() => fake.close());

  it('refuses a Contributor who cannot assign roles, naming scope, right and who can grant it, changing nothing', async () => {
    fake.setup.grants = [{ scope: `/subscriptions/${sub}`, ...contributor }];
    const state = await readAzureState(arm, target);
    const plan = planAzure(state, target, wanted);
    const missing = await checkRights(arm, rightsForPlan(plan, state, target));
    expect(missing.map((m) => [m.scope, m.action])).toEqual([
      [registryPath, rights.roleWrite],
      [clusterPath, rights.roleWrite],
    ]);
    const refusal = applyAzure(arm, plan, state, target);
    await expect(refusal).rejects.toThrow(/setup cannot apply the plan, and changed nothing/);
    await expect(applyAzure(arm, plan, state, target)).rejects.toThrow(
      new RegExp(
        `on ${registryPath}: missing Microsoft\\.Authorization/roleAssignments/write \\(to assign AcrPush there\\); an Owner, User Access Administrator or Role Based Access Control Administrator of that scope can grant it`,
      ),
    );
    expect(writes(fake)).toEqual([]);
    expect(fake.setup.identities).toEqual([]);
    // it asked ARM about each scope (Permissions_ListForResourceGroup, Permissions_ListForResource: its empty
    // parentResourcePath makes the SDK's '//')
    const asked = fake
      .requestsTo('GET', /\/providers\/Microsoft\.Authorization\/permissions$/i)
      .map((r) => r.path);
    expect([...new Set(asked)]).toEqual([
      `/subscriptions/${sub}/resourcegroups/rg-archetype/providers/Microsoft.Authorization/permissions`,
      `/subscriptions/${sub}/resourcegroups/rg-archetype/providers/Microsoft.ContainerRegistry//registries/archetypeacr/providers/Microsoft.Authorization/permissions`,
      `/subscriptions/${sub}/resourcegroups/rg-aks/providers/Microsoft.ContainerService//managedClusters/aks-archetype/providers/Microsoft.Authorization/permissions`,
    ]);
  });

  it('holds when the rights are on the scopes themselves (an Owner of the registry and the cluster)', async () => {
    fake.setup.grants = [
      { scope: `/subscriptions/${sub}`, ...contributor },
      { scope: registryPath, actions: ['*'], notActions: [] },
      { scope: clusterPath, actions: ['*'], notActions: [] },
    ];
    const state = await readAzureState(arm, target);
    const plan = planAzure(state, target, wanted);
    expect(await checkRights(arm, rightsForPlan(plan, state, target))).toEqual([]);
    await applyAzure(arm, plan, state, target);
    expect(fake.setup.roleAssignments).toHaveLength(3);
  });

  it('asks for the registry write right when the plan switches the registry to ABAC', async () => {
    // may read everything and assign roles (Role Based Access Control Administrator), not write the registry
    fake.setup.grants = [
      {
        scope: `/subscriptions/${sub}`,
        actions: ['*/read', 'Microsoft.Authorization/roleAssignments/*'],
        notActions: [],
      },
    ];
    const switching = { ...target, switchToAbac: true };
    const state = await readAzureState(arm, switching);
    const plan = planAzure(state, switching, wanted);
    expect(plan.switchRegistry).toBe(registryPath);
    const missing = await checkRights(arm, rightsForPlan(plan, state, switching));
    expect(missing.map((m) => [m.scope, m.action, m.role])).toContainEqual([
      registryPath,
      rights.registryWrite,
      'Container Registry Contributor and Data Access Configuration Administrator',
    ]);
    await expect(applyAzure(arm, plan, state, switching)).rejects.toThrow(
      /missing Microsoft\.ContainerRegistry\/registries\/write \(to switch the registry to ABAC repository permissions\)/,
    );
    expect(writes(fake)).toEqual([]);
    expect(fake.setup.registries[0]?.roleAssignmentMode).toBe('LegacyRegistryPermissions');
  });

  it('the stand-in refuses a write the caller lacks as ARM does (403 AuthorizationFailed)', async () => {
    fake.setup.grants = [{ scope: `/subscriptions/${sub}`, ...contributor }];
    const name = roleAssignmentName(registryPath, 'x', 'p');
    await expect(
      arm.authorization.roleAssignments.create(registryPath.slice(1), name, {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/x`,
        principalId: 'p',
      }),
    ).rejects.toMatchObject({
      statusCode: 403,
      code: 'AuthorizationFailed',
      message: expect.stringMatching(
        /^The client '55555555-5555-5555-5555-555555555555' with object id '.*' does not have authorization to perform action 'Microsoft.Authorization\/roleAssignments\/write' over scope '.*registries\/archetypeacr' or the scope is invalid\./,
      ),
    });
    expect(fake.setup.roleAssignments).toEqual([]);
  });
});
