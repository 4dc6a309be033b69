// Teardown removes what setup made and only that: identities tagged archetype-deploy-setup with this
// repository, and those identities' role assignments (IdentityListByResourceGroup.json,
// RoleAssignments_ListForScope.json, RoleAssignments_Delete.json, IdentityDelete.json).
import { applyAzure } from '../../src/setup/azure/apply.js';
import type { SetupArm } from '../../src/setup/azure/clients.js';
import { setupTag } from '../../src/setup/azure/ids.js';
import { planAzure } from '../../src/setup/azure/plan.js';
import { readAzureState } from '../../src/setup/azure/read-state.js';
import { applyTeardown, planTeardown, renderTeardown } from '../../src/setup/azure/teardown.js';
import { contributor } from '../fakes/azure-arm-setup.js';
import type { FakeAzure } from '../fakes/azure-server.js';
import { clusterPath, registryPath, startAzure, sub, target, wanted, writes } from './setup-fixture.js';

let fake: FakeAzure;
let arm: SetupArm;
beforeEach(async () => {
  ({ fake, arm } = await startAzure());
});
afterEach(() => fake.close());

async function setUp() {
  const state = await readAzureState(arm, target);
  await applyAzure(arm, planAzure(state, target, wanted), state, target);
}

function seedOthers() {
  const byHand = fake.setup.addIdentity({
    subscriptionId: sub,
    resourceGroup: 'rg-archetype',
    name: 'id-by-hand',
  });
  const otherRepo = fake.setup.addIdentity({
    subscriptionId: sub,
    resourceGroup: 'rg-archetype',
    name: 'id-other-production',
    tags: { [setupTag]: 'team/other' },
  });
  fake.setup.roleAssignments.push({
    scope: clusterPath,
    name: '0b7e2a55-0000-4000-8000-000000000001',
    roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/4abbcc35-e782-43d8-92c5-2d3f1bd2253f`,
    principalId: byHand.principalId,
    principalType: 'ServicePrincipal',
  });
  return { byHand, otherRepo };
}

it('deletes the tagged identities and their role assignments, leaving an untagged identity and its role', async () => {
  await setUp();
  const { byHand, otherRepo } = seedOthers();
  const plan = await planTeardown(arm, target);
  expect(plan.identities.map((i) => i.name)).toEqual(['id-archetype-production', 'id-archetype-preview']);
  expect(plan.roleAssignments.map((a) => a.scope)).toEqual([registryPath, clusterPath, clusterPath]);
  expect(renderTeardown(plan)).toHaveLength(5);

  await applyTeardown(arm, target, plan);

  expect(fake.setup.identities.map((i) => i.name)).toEqual([byHand.name, otherRepo.name]);
  expect(fake.setup.roleAssignments.map((a) => a.principalId)).toEqual([byHand.principalId]);
  // role assignments went first, so none is left pointing at a deleted identity
  const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
  expect(deletes.slice(0, 3).every((p) => p.includes('/roleAssignments/'))).toBe(true);
  expect(deletes.slice(3)).toEqual([
    `/subscriptions/${sub}/resourceGroups/rg-archetype/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-archetype-production`,
    `/subscriptions/${sub}/resourceGroups/rg-archetype/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-archetype-preview`,
  ]);
  const after = await readAzureState(arm, target);
  expect(after.identities).toEqual({ production: undefined, preview: undefined });
  expect(renderTeardown(await planTeardown(arm, target))).toEqual(['nothing to remove']);
});

it('refuses a caller who may not delete role assignments, deleting nothing', async () => {
  await setUp();
  fake.setup.grants = [{ scope: `/subscriptions/${sub}`, ...contributor }];
  const before = writes(fake).length;
  const plan = await planTeardown(arm, target);
  await expect(applyTeardown(arm, target, plan)).rejects.toThrow(
    new RegExp(
      `setup cannot tear down, and changed nothing[^]*on ${registryPath}: missing Microsoft\\.Authorization/roleAssignments/delete`,
    ),
  );
  expect(writes(fake)).toHaveLength(before);
  expect(fake.setup.identities).toHaveLength(2);
});
