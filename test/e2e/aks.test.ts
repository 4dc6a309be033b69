import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { aksServerAppId } from '../../src/azure/aks.js';
import { FakeAzure } from '../fakes/azure-server.js';
import { ConnectProxy } from '../fakes/connect-proxy.js';
import { eventFile } from '../fakes/github-server.js';
import { deleteNamespace, get, kubeconfigText, namespaceName, testCluster } from '../helpers/cluster.js';
import { applyRbac, deleteRbac } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// The AKS path end to end, as a runner runs dist/index.js: Microsoft Entra ID and Azure Resource Manager are
// FakeAzure (the client credentials flow, "Managed Clusters - List Cluster User Credentials" returning the
// kubelogin exec kubeconfig AKS returns), the cluster is the local API server, which checks the Entra
// tokens as AKS does (test/stack/entra-auth.test.ts). The identity is a service principal known to the
// cluster only by its object id and bound only by rbac/deployer.yaml and rbac/production.yaml. Its tokens
// live 60 seconds here, so runs longer than two minutes need the action to renew them.

jest.setTimeout(600_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-aks');
const clientId = randomUUID();
const objectId = randomUUID();
const subscriptionId = randomUUID();
const rbac = { APP: 'archetype', NAMESPACE: namespace, PRODUCTION_PRINCIPAL: objectId };
const sha = (c: string) => c.repeat(40);
let fake: FakeAzure;
const proxy = new ConnectProxy();
let caFile = '';

/** k8s/ with the pods' start-up (kwok's readiness) delayed, and the template changed by `extra` */
function slowManifests(readyAfter: string, extra: (text: string) => string = (t) => t): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-slow-'));
  cpSync('k8s', dir, { recursive: true });
  const file = join(dir, 'deployment.yaml');
  const text = readFileSync(file, 'utf8').replace(
    /( {4}metadata:\n {6}labels:)/,
    `    metadata:\n      annotations:\n        archetype.local/ready-after: ${readyAfter}\n      labels:`,
  );
  writeFileSync(file, extra(text));
  return dir;
}

/** The clusterUser kubeconfig AKS returns for an Entra-integrated cluster (format=exec). */
function aksUserKubeconfig(serverOverride?: string): string {
  const admin = kubeconfigText();
  const server = serverOverride ?? /server:\s*(\S+)/.exec(admin)?.[1];
  const ca = /certificate-authority-data:\s*(\S+)/.exec(admin)?.[1];
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: ${server}
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
      args: [get-token, --environment, AzurePublicCloud, --server-id, ${aksServerAppId}, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, ${fake.tenantId}, --login, devicecode]
`;
}

const inputs = (extra: Record<string, string> = {}) => {
  const { kubeconfig: _admin, ...local } = localTargetInputs();
  return {
    ...local,
    mode: 'deploy',
    namespace,
    host: 'archetype.localhost',
    'azure-client-id': clientId,
    'azure-tenant-id': fake.tenantId,
    'azure-client-secret': 'aks-e2e-secret',
    'azure-subscription-id': subscriptionId,
    'resource-group': 'rg',
    'cluster-name': 'aks-local',
    'azure-authority-host': fake.url,
    'azure-resource-manager-endpoint': fake.url,
    ...extra,
  };
};
const options = (c: string) => ({ sha: sha(c), env: { NODE_EXTRA_CA_CERTS: caFile } });
const aksTokenRequests = () =>
  fake
    .requestsTo('POST', `/${fake.tenantId}/oauth2/v2.0/token`)
    .filter((r) => r.form.scope === `${aksServerAppId}/.default`);

beforeAll(async () => {
  fake = await FakeAzure.start();
  fake.signWithLocalIssuer([aksServerAppId]);
  fake.tokenLifetimeSeconds = 60;
  fake.apps.set(clientId, { secret: 'aks-e2e-secret' });
  fake.objectIds.set(clientId, objectId);
  fake.clusters.push({
    subscriptionId,
    resourceGroup: 'rg',
    name: 'aks-local',
    kubeconfigs: { clusterUser: aksUserKubeconfig() },
    users: [clientId],
    admins: [],
  });
  // a private cluster: its kubeconfig names the privatelink FQDN, and, asked for it, its public FQDN (here
  // the local API server)
  fake.clusters.push({
    subscriptionId,
    resourceGroup: 'rg',
    name: 'aks-private',
    kubeconfigs: {
      clusterUser: aksUserKubeconfig('https://aks-private-1a2b3c.4d5e6f.privatelink.eastus.azmk8s.io:443'),
      clusterUserPublic: aksUserKubeconfig(),
    },
    users: [clientId],
    admins: [],
  });
  // local accounts enabled: the "user" kubeconfig ARM returns is a client certificate (the stack's admin's)
  fake.clusters.push({
    subscriptionId,
    resourceGroup: 'rg',
    name: 'aks-local-accounts',
    kubeconfigs: { clusterUser: kubeconfigText() },
    users: [clientId],
    admins: [],
    networkPolicy: 'cilium',
  });
  await proxy.start();
  caFile = join(mkdtempSync(join(tmpdir(), 'fake-azure-ca-')), 'ca.pem');
  writeFileSync(caFile, fake.certificate);
  await applyRbac(cluster, 'deployer', rbac);
  await applyRbac(cluster, 'production', rbac);
});

afterAll(async () => {
  await proxy.stop();
  await fake.close();
  await deleteNamespace(cluster, namespace);
  await deleteRbac(cluster, 'production', rbac);
});

describe('deploy to AKS with Entra tokens that expire', () => {
  it('rolls out for more than two minutes on 60-second tokens, renewing them', async () => {
    const started = Date.now();
    const run = await runAction(inputs({ manifests: slowManifests('130s') }), options('1'));
    const seconds = (Date.now() - started) / 1000;
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(seconds).toBeGreaterThan(120);
    expect(run.outputs.revision).toBe('1');
    // every request carried a current token: one at the start, then one every half-life (30 s)
    expect(aksTokenRequests().length).toBeGreaterThanOrEqual(4);
    expect(run.log).not.toMatch(/\b401\b|Unauthorized/);
    const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
    expect(d?.status?.availableReplicas).toBe(2);
  });

  it('rolls back a rollout that fails after its first token expired', async () => {
    const before = aksTokenRequests().length;
    const run = await runAction(
      inputs({
        manifests: slowManifests('1s', (text) =>
          text
            .replace('archetype.local/ready-after: 1s', 'archetype.local/fail: NotReady')
            .replace(/\n {2}replicas: 2\n/, '\n  replicas: 2\n  progressDeadlineSeconds: 75\n'),
        ),
        'failure-grace': '70s',
      }),
      options('2'),
    );
    expect(run.code).toBe(1);
    expect(run.error).toMatch(/never becomes ready/);
    expect(run.error).toMatch(
      /Rolled back to release \d+ \([0-9a-f]{7}\): revision \d+'s pods are serving again\.$/,
    );
    expect(run.log).not.toMatch(/\b401\b|Unauthorized/);
    expect(aksTokenRequests().length - before).toBeGreaterThanOrEqual(3);
    const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
    expect(d?.spec?.template.metadata?.annotations?.['archetype.local/fail']).toBeUndefined();
    expect(d?.status?.availableReplicas).toBe(2);
  });

  it("fails at once for a private cluster's endpoint on a GitHub-hosted runner, naming the ways out; aks-public-fqdn gets in", async () => {
    const started = Date.now();
    const run = await runAction(inputs({ 'cluster-name': 'aks-private' }), {
      ...options('3'),
      env: { NODE_EXTRA_CA_CERTS: caFile, RUNNER_ENVIRONMENT: 'github-hosted' },
    });
    expect(run.code).toBe(1);
    console.log(`private endpoint: failed after ${Date.now() - started} ms, the action's start-up included`);
    expect(run.error).toContain(
      'The API server https://aks-private-1a2b3c.4d5e6f.privatelink.eastus.azmk8s.io:443 cannot be reached from here',
    );
    expect(run.error).toContain('self-hosted runner');
    expect(run.error).toContain("set input 'aks-public-fqdn' to true");
    expect(run.log).not.toContain('trying again');

    const viaPublic = await runAction(inputs({ 'cluster-name': 'aks-private', 'aks-public-fqdn': 'true' }), {
      ...options('3'),
      env: { NODE_EXTRA_CA_CERTS: caFile, RUNNER_ENVIRONMENT: 'github-hosted' },
    });
    expect(viaPublic.error).toBe('');
    expect(
      fake.requestsTo('POST', /aks-private\/listClusterUserCredential$/).at(-1)?.query['server-fqdn'],
    ).toBe('public');
  });

  it('sends every call of a deploy through the proxy HTTPS_PROXY names', async () => {
    const apiServer = new URL(/server:\s*(\S+)/.exec(kubeconfigText())?.[1] ?? '').host;
    const azure = new URL(fake.url).host;
    const run = await runAction(inputs(), {
      ...options('4'),
      env: {
        NODE_EXTRA_CA_CERTS: caFile,
        HTTPS_PROXY: proxy.url,
        https_proxy: proxy.url,
        HTTP_PROXY: '',
        http_proxy: '',
        NO_PROXY: '',
        no_proxy: '',
      },
    });
    expect(run.error).toBe('');
    // Entra ID (the token endpoint), Azure Resource Manager and the API server, each through a CONNECT tunnel
    expect(new Set(proxy.targets)).toEqual(new Set([azure, apiServer]));
  });

  it('names the AKS cluster in the attach hint of a pull failure, and says whose rollout failed once', async () => {
    const run = await runAction(
      inputs({
        manifests: slowManifests('1s', (text) =>
          text.replace('archetype.local/ready-after: 1s', 'archetype.local/fail: ImagePullBackOff'),
        ),
        'failure-grace': '3s',
      }),
      options('5'),
    );
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /^the rollout of Deployment\/archetype revision \d+ failed: pod archetype-\S+ cannot pull image/,
    );
    expect(run.error).toContain(
      "(AKS: 'az aks update --resource-group rg --name aks-local --attach-acr <registry>'",
    );
    expect(run.error).not.toContain('<resource-group>');
    expect(run.error).not.toMatch(/failed: Deployment archetype revision \d+ failed/);
  });
});

// Managed Clusters - Get (aks/stable/2024-09-01, examples/ManagedClustersGet.json): the fake's aks-local
// reports no networkProfile.networkPolicy, as AKS does for a cluster created without a network policy engine
describe('previews on an AKS cluster without a network policy engine', () => {
  // an app of this run's own, so its preview namespaces and cluster-wide objects are this test's alone; the
  // preview identity of docs/github-setup.md: its own service principal, bound only by rbac/preview.yaml
  const app = namespaceName('aks-np');
  const previewClient = randomUUID();
  const previewRbac = {
    APP: app,
    PREVIEW_PRINCIPAL: randomUUID(),
    PREVIEW_DOMAIN: 'preview.localhost',
    INGRESS_NAMESPACE: 'app-routing-system',
    GATEWAY_NAMESPACE: '',
    GATEWAY_NAME: '',
  };
  const pullRequest = (pr: number, c: string) => ({
    ...options(c),
    event: 'pull_request',
    payload: eventFile('pull_request.opened', (p) => {
      if (p.pull_request) p.pull_request.number = pr;
      p.number = pr;
    }),
    ref: `refs/pull/${pr}/merge`,
  });
  const previewInputs = (extra: Record<string, string> = {}) =>
    inputs({
      mode: 'auto',
      'app-name': app,
      'image-name': `${app}/archetype`,
      'preview-domain': 'preview.localhost',
      'azure-client-id': previewClient,
      'azure-client-secret': 'aks-e2e-preview-secret',
      // the local cluster has no IngressClass for the manifests' webapprouting class
      preflight: 'warn',
      ...extra,
    });

  beforeAll(async () => {
    fake.apps.set(previewClient, { secret: 'aks-e2e-preview-secret' });
    fake.objectIds.set(previewClient, previewRbac.PREVIEW_PRINCIPAL);
    fake.clusters.find((c) => c.name === 'aks-local')?.users.push(previewClient);
    await applyRbac(cluster, 'deployer', previewRbac);
    await applyRbac(cluster, 'preview', previewRbac);
  });

  afterAll(async () => {
    for (const pr of [7, 11]) await deleteNamespace(cluster, `${app}-pr-${pr}`);
    await deleteRbac(cluster, 'preview', previewRbac);
    await deleteRbac(cluster, 'deployer', previewRbac);
  });

  it('refuses the preview before anything is built or made, with the command that enables one', async () => {
    const run = await runAction(previewInputs(), pullRequest(7, '9'));
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      "AKS cluster 'aks-local' enforces no NetworkPolicy (networkProfile.networkPolicy is not set)",
    );
    expect(run.error).toContain(
      'az aks update --resource-group rg --name aks-local --network-policy azure (or calico)',
    );
    expect(run.error).toContain(
      "input 'require-network-policy: false' makes it anyway, with this as a warning",
    );
    expect(run.log).not.toContain('docker buildx build');
    expect(await get(cluster, `/api/v1/namespaces/${app}-pr-7`)).toBeUndefined();
    expect(fake.requestsTo('GET', /managedClusters\/aks-local$/).length).toBeGreaterThan(0);
  });

  it('makes the preview with a warning when require-network-policy is false', async () => {
    const run = await runAction(previewInputs({ 'require-network-policy': 'false' }), pullRequest(11, '8'));
    expect(run.log).toMatch(
      /::warning::AKS cluster 'aks-local' enforces no NetworkPolicy .*The preview is made anyway \(input 'require-network-policy' is false\)/,
    );
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs.namespace).toBe(`${app}-pr-11`);
    const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${app}-pr-11/deployments/archetype`);
    expect(d?.status?.availableReplicas).toBe(1);
  });
});

describe('an AKS cluster with local accounts', () => {
  it('refuses a preview that would run as cluster admin, naming the fix, before anything is built', async () => {
    const run = await runAction(
      inputs({ mode: 'auto', 'cluster-name': 'aks-local-accounts', 'preview-domain': 'preview.localhost' }),
      {
        ...options('8'),
        event: 'pull_request',
        payload: eventFile('pull_request.opened'),
        ref: 'refs/pull/7/merge',
      },
    );
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      "AKS cluster 'aks-local-accounts' gave a kubeconfig without Microsoft Entra sign-in",
    );
    expect(run.error).toContain('--enable-aad --disable-local-accounts');
    expect(run.error).toContain("A pull request's preview does not run as cluster admin");
    expect(run.log).not.toContain('docker buildx build');
    expect(await get(cluster, '/api/v1/namespaces/archetype-pr-7')).toBeUndefined();
  });
});
