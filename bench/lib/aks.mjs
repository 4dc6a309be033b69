// The AKS path for the benchmark: Microsoft Entra ID and Azure Resource Manager are the tests' FakeAzure
// (test/fakes/azure-server.ts, bundled with esbuild when first needed), the cluster is the local API server,
// which checks the Entra tokens as AKS does. The identity is bound by rbac/deployer.yaml and
// rbac/production.yaml only, as docs/github-setup.md binds it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { root } from './action.mjs';
import { importBundled } from './bundled.mjs';

/** The AKS server application (Microsoft's, the same in every tenant): the audience of cluster tokens. */
export const aksServerAppId = '6dae42f8-4368-4678-94ff-3960e28e3630';

/** rbac/<file>.yaml as `envsubst < rbac/<file>.yaml` gives it. */
function rbacObjects(file, vars) {
  const text = readFileSync(join(root, 'rbac', `${file}.yaml`), 'utf8').replace(
    /\$\{([A-Z_]+)\}/g,
    (_, name) => {
      if (!(name in vars))
        throw new Error(`rbac/${file}.yaml uses \${${name}}, which the benchmark did not give`);
      return vars[name];
    },
  );
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean);
}

async function applyRbac(kc, file, vars) {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of rbacObjects(file, vars))
    await api.patch(object, undefined, undefined, 'bench', true, PatchStrategy.ServerSideApply);
}

async function deleteRbac(kc, file, vars) {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of rbacObjects(file, vars).reverse())
    await api.delete(object).catch((error) => {
      if (error?.code !== 404) throw error;
    });
}

/** The clusterUser kubeconfig AKS returns for an Entra-integrated cluster (format=exec), for `admin`'s server. */
function aksUserKubeconfig(adminText, tenantId) {
  const server = /server:\s*(\S+)/.exec(adminText)?.[1];
  const ca = /certificate-authority-data:\s*(\S+)/.exec(adminText)?.[1];
  return `apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority-data: ${ca}, server: '${server}'}
  name: aks-local
contexts:
- context: {cluster: aks-local, user: clusterUser_rg_aks-local}
  name: aks-local
current-context: aks-local
users:
- name: clusterUser_rg_aks-local
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id, ${aksServerAppId}, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, ${tenantId}, --login, devicecode]
`;
}

/**
 * FakeAzure serving one AKS cluster (the local API server) to one service principal, bound in `namespace`.
 * Returns the action's inputs for it, the child process's environment, a fixed-token kubeconfig for the
 * same identity, and close().
 */
export async function fakeAks(kc, adminText, namespace) {
  const { FakeAzure } = await importBundled('test/fakes/azure-server.ts');
  const fake = await FakeAzure.start();
  const clientId = randomUUID();
  const objectId = randomUUID();
  const subscriptionId = randomUUID();
  const secret = randomUUID();
  fake.signWithLocalIssuer([aksServerAppId]);
  fake.apps.set(clientId, { secret });
  fake.objectIds.set(clientId, objectId);
  fake.clusters.push({
    subscriptionId,
    resourceGroup: 'rg',
    name: 'aks-local',
    kubeconfigs: { clusterUser: aksUserKubeconfig(adminText, fake.tenantId) },
    users: [clientId],
    admins: [],
  });
  const caFile = join(mkdtempSync(join(tmpdir(), 'bench-fake-azure-')), 'ca.pem');
  writeFileSync(caFile, fake.certificate);
  const vars = { APP: 'archetype', NAMESPACE: namespace, PRODUCTION_PRINCIPAL: objectId };
  await applyRbac(kc, 'deployer', vars);
  await applyRbac(kc, 'production', vars);

  /** The fixed-token version: one Entra token, fetched here, written into the kubeconfig as a bearer token. */
  const fixedTokenKubeconfig = async () => {
    const response = await fetch(`${fake.url}/${fake.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: `${aksServerAppId}/.default`,
      }),
    });
    if (!response.ok) throw new Error(`FakeAzure token: ${response.status} ${await response.text()}`);
    const { access_token: token } = await response.json();
    return aksUserKubeconfig(adminText, fake.tenantId).replace(
      /user:\n {4}exec:[\s\S]*$/,
      `user:\n    token: ${token}\n`,
    );
  };

  return {
    fake,
    inputs: {
      'azure-client-id': clientId,
      'azure-tenant-id': fake.tenantId,
      'azure-client-secret': secret,
      'azure-subscription-id': subscriptionId,
      'resource-group': 'rg',
      'cluster-name': 'aks-local',
      'azure-authority-host': fake.url,
      'azure-resource-manager-endpoint': fake.url,
    },
    env: { NODE_EXTRA_CA_CERTS: caFile },
    fixedTokenKubeconfig,
    close: async () => {
      await fake.close();
      await deleteRbac(kc, 'production', vars);
    },
  };
}

/** The action's closing line about its cluster tokens: "cluster tokens: N fetched … in M ms …, R API requests". */
export function tokenLine(log) {
  const m =
    /cluster tokens: (\d+) fetched from Microsoft Entra ID in (\d+) ms in all, (\d+) API requests/.exec(log);
  return m ? { fetched: Number(m[1]), fetchMs: Number(m[2]), requests: Number(m[3]) } : undefined;
}
