import { randomBytes, randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { aksServerAppId } from '../../src/azure/aks.js';
import { azureCredential } from '../../src/azure/identity.js';
import type { Cluster } from '../../src/kube/client/client.js';
import {
  allOk,
  applyRbacPlan,
  applyRbacTeardown,
  checkClusterAccess,
  connectAsSignedInUser,
  describeRbacPlan,
  entraSubject,
  planClusterRbac,
  planRbacTeardown,
  type RbacInput,
  renderCheckTable,
  type SignedInCluster,
} from '../../src/setup/cluster/index.js';
import { FakeAzure } from '../fakes/azure-server.js';
import { aksUserKubeconfig } from '../helpers/aks-kubeconfig.js';
import { deleteNamespace, eventually, testCluster } from '../helpers/cluster.js';
import { deleteRbac } from '../helpers/identities.js';

// The cluster step of setup on the real local API server, as setup runs it on AKS: the person running it signs
// in with Microsoft Entra ID (FakeAzure's client credentials, tokens signed by the local issuer the API server
// trusts, the kubeconfig from "List Cluster User Credentials"), and applies rbac/ with that token, never with
// the admin certificate. That person is not cluster-admin here but holds what applying rbac/ takes (the
// ClusterRole below). It includes `escalate` and `bind` on ClusterRoles: Kubernetes lets nobody else write a
// role that grants what they do not hold, so whoever applies rbac/ can in effect grant anything, as a member of
// an AKS cluster's admin groups can. Every run has its own app, namespace, principals and runner role.

jest.setTimeout(120_000);

const admin = testCluster();
const run = randomBytes(3).toString('hex');
const app = `sc${run}`;
const input: RbacInput = {
  app,
  namespace: `${app}-prod`,
  productionPrincipal: randomUUID(),
  previewPrincipal: randomUUID(),
  previewDomain: `${app}.preview.localhost`,
  ingressNamespace: 'ingress-system',
};
const vars = {
  APP: app,
  NAMESPACE: input.namespace,
  PRODUCTION_PRINCIPAL: input.productionPrincipal,
  PREVIEW_PRINCIPAL: input.previewPrincipal,
  PREVIEW_DOMAIN: input.previewDomain,
  INGRESS_NAMESPACE: input.ingressNamespace,
  GATEWAY_NAMESPACE: '',
  GATEWAY_NAME: '',
};
const runner = { clientId: randomUUID(), objectId: randomUUID(), secret: 'runner-secret' };
const production = { clientId: randomUUID(), secret: 'production-secret' };
const subscriptionId = randomUUID();
const runnerRole = `setup-runner-${run}`;
const overBroad = `${app}-over-broad`;
let fake: FakeAzure;
let connected: SignedInCluster;

const rbacApi = '/apis/rbac.authorization.k8s.io/v1';
const vapApi = '/apis/admissionregistration.k8s.io/v1';

/** What applying rbac/ takes, at the cluster scope; without the admission policies when `narrow`. */
function runnerRules(narrow: boolean) {
  const rw = ['get', 'create', 'update', 'patch', 'delete'];
  return [
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterroles'],
      verbs: [...rw, 'escalate', 'bind'],
    },
    {
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterrolebindings', 'rolebindings'],
      verbs: rw,
    },
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'patch'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    // the shared pod policies' bindings name parameters (paramRef): binding them needs reading those
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get'] },
    { apiGroups: [''], resources: ['resourcequotas', 'limitranges'], verbs: ['get'] },
    ...(narrow
      ? []
      : [
          {
            apiGroups: ['admissionregistration.k8s.io'],
            resources: ['validatingadmissionpolicies', 'validatingadmissionpolicybindings'],
            verbs: rw,
          },
        ]),
  ];
}

async function grantRunner(narrow: boolean): Promise<void> {
  await admin.request('PATCH', `${rbacApi}/clusterroles/${runnerRole}`, {
    query: { fieldManager: 'test-admin', force: true },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: runnerRole },
      rules: runnerRules(narrow),
    },
  });
}

/** Signs in as `who` through FakeAzure and the AKS user kubeconfig (the ::add-mask:: lines kept out of the output). */
async function signIn(who: { clientId: string; secret: string }): Promise<SignedInCluster> {
  const credential = azureCredential(
    { clientId: who.clientId, tenantId: fake.tenantId, clientSecret: who.secret },
    { authorityHost: fake.url },
  );
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await connectAsSignedInUser(
      credential,
      { subscriptionId, resourceGroup: 'rg', name: 'aks' },
      { armEndpoint: fake.url },
    );
  } finally {
    process.stdout.write = write;
  }
}

const exists = (cluster: Cluster, path: string) => cluster.get<KubernetesObject>(path);

beforeAll(async () => {
  fake = await FakeAzure.start();
  fake.signWithLocalIssuer([aksServerAppId]);
  fake.apps.set(runner.clientId, { secret: runner.secret });
  fake.objectIds.set(runner.clientId, runner.objectId);
  fake.apps.set(production.clientId, { secret: production.secret });
  fake.objectIds.set(production.clientId, input.productionPrincipal);
  fake.clusters.push({
    subscriptionId,
    resourceGroup: 'rg',
    name: 'aks',
    kubeconfigs: { clusterUser: aksUserKubeconfig() },
    users: [runner.clientId, production.clientId],
    admins: [],
  });
  await grantRunner(true);
  await admin.request('POST', `${rbacApi}/clusterrolebindings`, {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: runnerRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: runnerRole },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: runner.objectId }],
    },
  });
  connected = await signIn(runner);
});

afterAll(async () => {
  for (const file of ['preview', 'production', 'deployer']) await deleteRbac(admin, file, vars);
  for (const name of [runnerRole, overBroad])
    await admin.request('DELETE', `${rbacApi}/clusterrolebindings/${name}`).catch(() => undefined);
  await admin.request('DELETE', `${rbacApi}/clusterroles/${runnerRole}`).catch(() => undefined);
  await deleteNamespace(admin, input.namespace).catch(() => undefined);
  await fake?.close();
});

describe('setup applies rbac/ as the signed-in user and checks each identity', () => {
  it('signs in as the Entra user the API server knows by its object id, not as an admin', () => {
    expect(connected.user.username).toBe(runner.objectId);
    expect(connected.user.groups).toContain('system:authenticated');
    expect(connected.user.groups).not.toContain('system:masters');
  });

  it('plans, with nothing written, a refusal naming each object and the right the user lacks', async () => {
    const { plan } = await planClusterRbac(connected, input);
    const refused = plan.entries.filter((e) => e.action === 'refused');
    // every admission policy and binding of rbac/preview.yaml, and nothing else
    expect(refused.map((e) => e.object.kind)).toEqual(
      expect.arrayContaining(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
    );
    expect(refused.every((e) => e.object.kind?.startsWith('ValidatingAdmissionPolicy'))).toBe(true);
    expect(refused[0]?.refusal).toMatch(
      new RegExp(
        `^ValidatingAdmissionPolicy/${app}-preview-namespaces \\(rbac/preview.yaml\\): ${runner.objectId} may not (get|patch) validatingadmissionpolicies.admissionregistration.k8s.io at the cluster scope, .*admin groups`,
      ),
    );
    await expect(applyRbacPlan(connected.cluster, plan)).rejects.toThrow(
      /nothing changed: \d+ of them would be refused/,
    );
    expect(await exists(admin, `${rbacApi}/clusterroles/${app}-deployer`)).toBeUndefined();
    expect(await exists(admin, `/api/v1/namespaces/${input.namespace}`)).toBeUndefined();
  });

  it('applies the plan, and a second plan has nothing to change', async () => {
    await grantRunner(false);
    const { plan } = await eventually('the wider runner role to take effect', async () => {
      const planned = await planClusterRbac(connected, input);
      return planned.plan.entries.every((e) => e.action !== 'refused') ? planned : undefined;
    });
    // the pod policies every app's previews share are never changed by one app's setup
    expect(plan.entries.filter((e) => e.shared).every((e) => e.action !== 'update')).toBe(true);
    const lines = describeRbacPlan(plan);
    expect(lines).toContain(`+ ClusterRole/${app}-deployer (rbac/deployer.yaml)`);
    expect(lines).toContain(`+ RoleBinding/${input.namespace}/${app}-deployer (rbac/production.yaml)`);
    expect(lines).toContain(`+ ValidatingAdmissionPolicy/${app}-preview-namespaces (rbac/preview.yaml)`);

    const applied = await applyRbacPlan(connected.cluster, plan);
    expect(applied.written.length).toBe(plan.entries.filter((e) => e.action === 'create').length);
    // the objects are in the cluster, bound to the identities' object ids
    const binding = await exists(
      admin,
      `${rbacApi}/namespaces/${input.namespace}/rolebindings/${app}-deployer`,
    );
    expect((binding as { subjects?: Array<{ name?: string }> }).subjects?.[0]?.name).toBe(
      input.productionPrincipal,
    );
    const namespace = await exists(admin, `/api/v1/namespaces/${input.namespace}`);
    expect(namespace?.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(
      await exists(admin, `${vapApi}/validatingadmissionpolicies/${app}-preview-namespaces`),
    ).toBeDefined();

    const again = await planClusterRbac(connected, input);
    expect(again.plan.entries.map((e) => e.action)).toEqual(again.plan.entries.map(() => 'unchanged'));
    expect(describeRbacPlan(again.plan)).toEqual([
      `cluster: nothing to change (${again.plan.entries.length} rbac/ objects as the files say)`,
    ]);
    expect((await applyRbacPlan(connected.cluster, again.plan)).written).toEqual([]);
  });

  it('finds every identity allowed what it needs and nothing more', async () => {
    const { objects } = await planClusterRbac(connected, input);
    const rows = await checkClusterAccess(connected.cluster, input, objects);
    const table = renderCheckTable(rows);
    expect({ ok: allOk(rows), table }).toEqual({ ok: true, table: expect.any(Array) });
    expect(rows.map((r) => `${r.identity}: ${r.check}`)).toEqual([
      `production: deploys in ${input.namespace}`,
      'production: preflight reads, cluster-wide',
      `production: nothing in kube-system or ${app}-pr-1`,
      'production: no cluster-scoped writes',
      'production: cannot widen its own rights',
      'preview: makes previews and binds itself there',
      `preview: nothing in production's namespace ${input.namespace}`,
      'preview: no cluster-scoped writes',
      'preview: cannot widen its own rights',
    ]);
    expect(
      rows.find((r) => r.identity === 'preview' && r.check === 'no cluster-scoped writes')?.detail,
    ).toMatch(new RegExp(`held by admission policy ${app}-preview-namespaces`));
  });

  it('checks the identity the API server sees in its tokens: the reviews agree with a real request', async () => {
    const asProduction = await signIn(production);
    expect(asProduction.user.username).toBe(input.productionPrincipal);
    expect(asProduction.user.groups).toEqual(
      expect.arrayContaining(entraSubject(input.productionPrincipal).groups ?? []),
    );
    await expect(
      asProduction.cluster.request('GET', `/apis/apps/v1/namespaces/${input.namespace}/deployments`),
    ).resolves.toBeDefined();
    await expect(
      asProduction.cluster.request('GET', '/api/v1/namespaces/kube-system/secrets', { outageMs: 0 }),
    ).rejects.toThrow(/403/);
  });

  it('flags an over-broad binding: the deployer role bound to the preview identity cluster-wide', async () => {
    await admin.request('POST', `${rbacApi}/clusterrolebindings`, {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: overBroad },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${app}-deployer` },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: input.previewPrincipal }],
      },
    });
    const { objects } = await planClusterRbac(connected, input);
    const rows = await eventually('the over-broad binding to be seen', async () => {
      const r = await checkClusterAccess(connected.cluster, input, objects);
      return allOk(r) ? undefined : r;
    });
    const failed = rows.filter((r) => !r.ok);
    expect(failed.map((r) => `${r.identity}: ${r.check}`)).toEqual([
      `preview: nothing in production's namespace ${input.namespace}`,
    ]);
    expect(failed[0]?.detail).toMatch(
      new RegExp(`may (get|list|watch|create|update|patch|delete) \\S+ in ${input.namespace} \\(must not\\)`),
    );
    expect(renderCheckTable(rows).at(-1)).toBe(`1 of ${rows.length} checks failed`);
    await admin.request('DELETE', `${rbacApi}/clusterrolebindings/${overBroad}`);
  });

  it('tears down what it wrote, keeping the namespace and the shared pod policies', async () => {
    const { objects } = await planClusterRbac(connected, input);
    const entries = await planRbacTeardown(connected.cluster, objects);
    const keep = entries.filter((e) => e.action === 'keep');
    expect(keep.map((e) => e.label)).toEqual(
      expect.arrayContaining([`Namespace/${input.namespace} (rbac/production.yaml)`]),
    );
    expect(keep.every((e) => e.label.startsWith('Namespace/') || !e.label.includes(app))).toBe(true);
    const deleted = await applyRbacTeardown(connected.cluster, entries);
    expect(deleted).toContain(`ClusterRole/${app}-deployer (rbac/deployer.yaml)`);
    expect(await exists(admin, `${rbacApi}/clusterroles/${app}-deployer`)).toBeUndefined();
    expect(
      await exists(admin, `${vapApi}/validatingadmissionpolicies/${app}-preview-namespaces`),
    ).toBeUndefined();
    expect(await exists(admin, `/api/v1/namespaces/${input.namespace}`)).toBeDefined();
  });
});
