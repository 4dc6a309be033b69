// setup's Azure side on the stand-in, through the real SDK clients (@azure/arm-msi, -authorization,
// -containerregistry, -containerservice). Requests and answers follow Azure/azure-rest-api-specs examples:
// IdentityCreate.json, IdentityListByResourceGroup.json, FederatedIdentityCredentialCreate.json,
// FederatedIdentityCredentialList.json, RoleAssignments_CreateForResource.json, RoleAssignments_ListForScope.json,
// GetPermissions.json, RegistryGet.json, ManagedClustersGet.json.
import { applyAzure } from '../../src/setup/azure/apply.js';
import type { SetupArm } from '../../src/setup/azure/clients.js';
import { roleAssignmentName, setupTag } from '../../src/setup/azure/ids.js';
import { planAzure } from '../../src/setup/azure/plan.js';
import { readAzureState } from '../../src/setup/azure/read-state.js';
import { builtInRoles, roleDefinitionId } from '../../src/setup/plan.js';
import { planIsEmpty, renderPlan, type SetupPlan } from '../../src/setup/print.js';
import type { FakeAzure } from '../fakes/azure-server.js';
import { clusterPath, registryPath, startAzure, sub, target, wanted, writes } from './setup-fixture.js';

let fake: FakeAzure;
let arm: SetupArm;
beforeEach(async () => {
  ({ fake, arm } = await startAzure());
});
afterEach(() => fake.close());

const full = (azure: ReturnType<typeof planAzure>): SetupPlan => ({
  ...azure,
  environments: [],
  variables: [],
});

describe('setup on an empty subscription', () => {
  it('plans every change, applies it, and a second read plans nothing', async () => {
    const state = await readAzureState(arm, target);
    expect(state.identities).toEqual({ production: undefined, preview: undefined });
    expect(state.registry).toEqual({ id: registryPath, location: 'eastus', abac: false });
    const plan = planAzure(state, target, wanted);
    expect(plan.findings).toEqual([]);
    expect(renderPlan(full(plan))).toEqual([
      '+ managed identity rg-archetype/id-archetype-production (production)',
      '+ managed identity rg-archetype/id-archetype-preview (preview)',
      '+ federated credential github-environment-production on the production identity: subject repo:team/archetype:environment:production, audience api://AzureADTokenExchange',
      '+ federated credential github-pull-request on the preview identity: subject repo:team/archetype:pull_request, audience api://AzureADTokenExchange',
      '+ federated credential github-default-branch on the preview identity: subject repo:team/archetype:ref:refs/heads/main, audience api://AzureADTokenExchange',
      `+ role AcrPush for the production identity on ${registryPath}`,
      `+ role Azure Kubernetes Service Cluster User Role for the production identity on ${clusterPath}`,
      `+ role Azure Kubernetes Service Cluster User Role for the preview identity on ${clusterPath}`,
      expect.stringMatching(/^not done: registry .* is not in ABAC mode/),
      // the fixture's cluster has no kubelet identity (a cluster with a service principal)
      expect.stringMatching(/^not done: cluster .* has no kubelet identity/),
    ]);
    expect(writes(fake)).toEqual([]);

    const applied = await applyAzure(arm, plan, state, target);

    const made = fake.setup.identities;
    expect(made.map((i) => [i.name, i.resourceGroup, i.location, i.tags])).toEqual([
      ['id-archetype-production', 'rg-archetype', 'location1', { [setupTag]: 'team/archetype' }],
      ['id-archetype-preview', 'rg-archetype', 'location1', { [setupTag]: 'team/archetype' }],
    ]);
    expect(applied.production).toEqual({
      name: 'id-archetype-production',
      clientId: made[0]?.clientId,
      principalId: made[0]?.principalId,
    });
    expect([...(made[1]?.credentials.values() ?? [])].map((c) => c.subject)).toEqual([
      'repo:team/archetype:pull_request',
      'repo:team/archetype:ref:refs/heads/main',
    ]);
    // IdentityCreate.json's request: {"location","tags"}; FederatedIdentityCredentialCreate.json's:
    // {"properties":{"issuer","subject","audiences"}}; RoleAssignments_CreateForResource.json's:
    // {"properties":{"roleDefinitionId","principalId","principalType"}}
    const identityPut = fake.requestsTo('PUT', /userAssignedIdentities\/id-archetype-production$/)[0];
    expect(JSON.parse(identityPut?.body ?? '')).toEqual({
      location: 'location1',
      tags: { [setupTag]: 'team/archetype' },
    });
    const credentialPut = fake.requestsTo(
      'PUT',
      /federatedIdentityCredentials\/github-environment-production$/,
    )[0];
    expect(JSON.parse(credentialPut?.body ?? '')).toEqual({
      properties: {
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'repo:team/archetype:environment:production',
        audiences: ['api://AzureADTokenExchange'],
      },
    });
    const acrPush = roleDefinitionId(sub, 'AcrPush');
    const pushName = roleAssignmentName(registryPath, acrPush, applied.production.principalId);
    const rolePut = fake.requestsTo(
      'PUT',
      `${registryPath}/providers/Microsoft.Authorization/roleAssignments/${pushName}`,
    )[0];
    expect(JSON.parse(rolePut?.body ?? '').properties).toEqual({
      roleDefinitionId: acrPush,
      principalId: applied.production.principalId,
      principalType: 'ServicePrincipal',
      description: `${setupTag}: team/archetype`,
    });
    expect(
      fake.setup.roleAssignments.map((a) => [a.scope, a.roleDefinitionId.split('/').pop(), a.principalId]),
    ).toEqual([
      [registryPath, builtInRoles.AcrPush, applied.production.principalId],
      [
        clusterPath,
        builtInRoles['Azure Kubernetes Service Cluster User Role'],
        applied.production.principalId,
      ],
      [clusterPath, builtInRoles['Azure Kubernetes Service Cluster User Role'], applied.preview.principalId],
    ]);
    // the stand-in's Entra trusts the subjects just federated, for the identity's client id
    expect(fake.apps.get(applied.production.clientId)?.federatedSubjects).toEqual([
      'repo:team/archetype:environment:production',
    ]);

    const again = planAzure(await readAzureState(arm, target), target, wanted);
    expect(planIsEmpty(full(again))).toBe(true);
    expect(renderPlan(full(again))[0]).toBe('nothing to change');
    const before = writes(fake).length;
    await applyAzure(arm, again, await readAzureState(arm, target), target);
    expect(writes(fake)).toHaveLength(before);
  });

  it('retries PrincipalNotFound for a just-made identity a bounded number of times', async () => {
    fake.setup.principalNotFoundAttempts = 2;
    const state = await readAzureState(arm, target);
    await applyAzure(arm, planAzure(state, target, wanted), state, target, { retry: { delayMs: 1 } });
    expect(fake.setup.roleAssignments).toHaveLength(3);
    const production = fake.setup.identities[0]?.principalId ?? '';
    const tries = fake
      .requestsTo('PUT', /roleAssignments\//)
      .filter((r) => JSON.parse(r.body).properties.principalId === production);
    expect(tries).toHaveLength(4); // AcrPush: 2 refusals and 1 success; the cluster role at once
  });

  it('gives up after the bounded tries, naming the error and the fix', async () => {
    fake.setup.principalNotFoundAttempts = 100;
    const state = await readAzureState(arm, target);
    await expect(
      applyAzure(arm, planAzure(state, target, wanted), state, target, { retry: { tries: 3, delayMs: 1 } }),
    ).rejects.toThrow(
      new RegExp(
        `assigning AcrPush on ${registryPath} to principal .*: 400 PrincipalNotFound: .*run setup again in a few minutes`,
      ),
    );
    expect(fake.requestsTo('PUT', /roleAssignments\//)).toHaveLength(3);
  });
});

describe('setup with what exists', () => {
  it('reuses a credential with another name but the same subject, and adds none beside it', async () => {
    const production = fake.setup.addIdentity({
      subscriptionId: sub,
      resourceGroup: 'rg-archetype',
      name: 'id-archetype-production',
    });
    production.credentials.set('made-by-hand', {
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:team/archetype:environment:production',
      audiences: ['api://AzureADTokenExchange'],
    });
    const state = await readAzureState(arm, target);
    expect(state.identities.production?.credentials.map((c) => c.name)).toEqual(['made-by-hand']);
    const plan = planAzure(state, target, wanted);
    expect(plan.identities.map((i) => i.identity)).toEqual(['preview']);
    expect(plan.credentials.map((c) => c.identity)).toEqual(['preview', 'preview']);

    await applyAzure(arm, plan, state, target);

    expect([...production.credentials.keys()]).toEqual(['made-by-hand']);
    expect(fake.requestsTo('PUT', /id-archetype-production\/federatedIdentityCredentials\//)).toEqual([]);
    // an identity setup did not make keeps its (absent) tags: teardown will leave it
    expect(production.tags).toEqual({});
    expect(planIsEmpty(full(planAzure(await readAzureState(arm, target), target, wanted)))).toBe(true);
  });

  it('plans no AcrPush on an ABAC registry, and reads the cluster findings', async () => {
    const registry = fake.setup.registries[0];
    if (registry) registry.roleAssignmentMode = 'AbacRepositoryPermissions';
    const cluster = fake.clusters[0];
    if (cluster) cluster.properties = { aadProfile: { managed: true, enableAzureRBAC: true } };
    const state = await readAzureState(arm, target);
    expect(state.registry.abac).toBe(true);
    const plan = planAzure(state, target, wanted);
    expect(plan.roles.map((r) => r.role)).not.toContain('AcrPush');
    expect(plan.findings).toEqual([
      expect.stringMatching(/^Azure RBAC for Kubernetes authorization is on/),
      expect.stringMatching(/^local accounts are enabled/),
      expect.stringMatching(/^application routing is off/),
    ]);
  });

  it('names the registry flag when there is no such registry', async () => {
    await expect(readAzureState(arm, { ...target, registry: 'nosuchacr' })).rejects.toThrow(
      /reading registry .*\/registries\/nosuchacr: 404 ResourceNotFound: .*check --registry, --resource-group and --subscription/,
    );
  });
});

describe('roleAssignmentName', () => {
  it('is a version-5-shaped UUID, the same for the same grant in any case, another for another grant', () => {
    const acrPush = roleDefinitionId(sub, 'AcrPush');
    const name = roleAssignmentName(registryPath, acrPush, 'AB-12');
    expect(name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(roleAssignmentName(registryPath.toLowerCase(), acrPush.toUpperCase(), 'ab-12')).toBe(name);
    expect(roleAssignmentName(clusterPath, acrPush, 'AB-12')).not.toBe(name);
  });
});
