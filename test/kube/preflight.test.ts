import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { applySet } from '../../src/kube/apply/apply.js';
import { type PreflightOptions, preflight } from '../../src/kube/preflight/preflight.js';
import { trackRollout } from '../../src/kube/rollout/track.js';
import {
  deleteNamespace,
  deployment,
  eventually,
  fieldManager,
  get,
  ingress,
  namespaceName,
  service,
  testCluster,
} from '../helpers/cluster.js';
import { bindPod, createTestNode, deleteTestNode, onTestNode } from '../helpers/preflight-nodes.js';

// Preflight against the real control plane: test nodes made for the purpose (kwok, tainted, any
// architecture and allocatable), LimitRange, ResourceQuota and IngressClasses as the API server keeps them.

const cluster = testCluster();
const ns = namespaceName('t-preflight');
const image = `127.0.0.1:5000/archetype@sha256:${'a'.repeat(64)}`;
const nodes: string[] = [];
let small = '';
let arm = '';

const options = (overrides: Partial<PreflightOptions> = {}): PreflightOptions => ({
  namespace: ns,
  instance: 'archetype',
  fieldManager,
  image,
  imagePlatforms: async () => [{ os: 'linux', architecture: 'amd64' }],
  mode: 'error',
  ...overrides,
});

/** A Deployment of the image, on one test node. */
function onNode(node: string, extra: { cpu?: string; name?: string; replicas?: number } = {}): V1Deployment {
  const d = deployment(ns, {
    image,
    cpu: extra.cpu ?? '10m',
    name: extra.name,
    replicas: extra.replicas,
  }) as V1Deployment;
  Object.assign(d.spec?.template.spec ?? {}, onTestNode(node));
  return d;
}

async function failure(
  objects: KubernetesObject[],
  overrides: Partial<PreflightOptions> = {},
): Promise<string> {
  try {
    await preflight(cluster, objects, options(overrides));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected preflight to fail');
}

beforeAll(async () => {
  await cluster.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
  small = await createTestNode(cluster, 'pf-small', { cpu: '1900m', memory: '4652372Ki', pods: '30' });
  arm = await createTestNode(cluster, 'pf-arm', { arch: 'arm64' });
  nodes.push(small, arm);
  // the write-up's node: 1670m of its 1900m requested by pods that are not ours
  await bindPod(cluster, ns, small, '1670m');
}, 90_000);

afterAll(async () => {
  await deleteNamespace(cluster, ns);
  for (const n of nodes) await deleteTestNode(cluster, n);
});

describe('preflight on the local control plane', () => {
  it('fails a pod that fits on no node, with the figures of the fullest node', async () => {
    const message = await failure([onNode(small, { cpu: '250m' })]);
    expect(message).toContain(
      `capacity: Deployment/archetype: each pod requests 250m CPU and 32Mi; the most free CPU on any eligible node is 230m (${small}: 1900m allocatable, 1670m requested); lower the requests or add a node`,
    );
    expect(message).toMatch(/^Preflight found 1 problem; nothing was applied/);
    // nothing was applied: the namespace holds no Deployment
    const list = await cluster.request<{ items: unknown[] }>(
      'GET',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
    );
    expect(list.items).toHaveLength(0);
  });

  it('passes the same Deployment when its pods fit, and warns instead of failing in warn mode', async () => {
    expect((await preflight(cluster, [onNode(small, { cpu: '100m' })], options())).findings).toEqual([]);
    const warnings: string[] = [];
    const result = await preflight(
      cluster,
      [onNode(small, { cpu: '250m' })],
      options({ mode: 'warn', log: { info() {}, notice() {}, warning: (m) => warnings.push(m) } }),
    );
    expect(result.findings.map((f) => f.check)).toEqual(['capacity']);
    expect(warnings[0]).toMatch(
      /^preflight \(capacity, a warning by input 'preflight: warn'\): Deployment\/archetype: each pod/,
    );
  });

  it('fails an image whose platform no eligible node has', async () => {
    const message = await failure([onNode(arm)]);
    expect(message).toContain(
      `architecture: Deployment/archetype: the image is linux/amd64 only; the nodes this Deployment can use are arm64 (${arm}); build with platforms linux/arm64 (input 'platforms')`,
    );
    const fine = await preflight(
      cluster,
      [onNode(arm)],
      options({ imagePlatforms: async () => [{ os: 'linux', architecture: 'arm64' }] }),
    );
    expect(fine.findings).toEqual([]);
  });

  it('fails an Ingress whose class the cluster does not have, listing those it has', async () => {
    const i = ingress(ns) as KubernetesObject & { spec: { ingressClassName: string } };
    i.spec.ingressClassName = 'pf-no-such-class';
    const message = await failure([onNode(small), service(ns), i]);
    expect(message).toMatch(
      /ingress class: Ingress\/archetype: spec\.ingressClassName 'pf-no-such-class' is not an IngressClass in the cluster \(the cluster (has .+|has no IngressClass at all)\); install the ingress controller/,
    );
  });

  it('fails references to a pull secret, Secret or ConfigMap that exist nowhere, and passes them in the set', async () => {
    const d = onNode(small);
    const spec = d.spec?.template.spec;
    if (!spec) throw new Error('no pod spec');
    spec.imagePullSecrets = [{ name: 'acr-pull' }];
    const [container] = spec.containers;
    if (container) container.env = [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }];
    const message = await failure([d]);
    expect(message).toContain("imagePullSecrets names Secret 'acr-pull', which is neither in namespace");
    expect(message).toContain("container app env DB refers to Secret 'db', which is neither in namespace");
    const secrets = [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'acr-pull' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': 'e30=' },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { url: 'postgres://x' } },
    ];
    expect((await preflight(cluster, [d, ...secrets], options())).findings).toEqual([]);
  });

  it('says which LimitRange or ResourceQuota limit the pods break', async () => {
    const q = `/api/v1/namespaces/${ns}/resourcequotas`;
    const lr = `/api/v1/namespaces/${ns}/limitranges`;
    await cluster.request('POST', lr, {
      body: {
        metadata: { name: 'limits' },
        spec: { limits: [{ type: 'Container', max: { memory: '16Mi' } }] },
      },
    });
    await cluster.request('POST', q, {
      body: { metadata: { name: 'compute' }, spec: { hard: { 'requests.cpu': '2' } } },
    });
    // the quota controller fills status.hard/used
    await eventually(
      'quota status',
      async () => (await get<{ status?: { hard?: object } }>(cluster, `${q}/compute`))?.status?.hard,
    );
    try {
      const message = await failure([onNode(arm, { cpu: '200m' })], {
        imagePlatforms: async () => [{ os: 'linux', architecture: 'arm64' }],
      });
      expect(message).toContain(
        "admission: Deployment/archetype: container app: LimitRange 'limits' allows at most 16Mi memory per Container; it requests 32Mi",
      );
      expect(message).toContain(
        "admission: Deployment/archetype: ResourceQuota 'compute' in namespace '" +
          ns +
          "' allows requests.cpu 2000m; 1670m is used by other objects and the rollout needs 2 × 200m = 400m",
      );
    } finally {
      await cluster.request('DELETE', `${q}/compute`);
      await cluster.request('DELETE', `${lr}/limits`);
    }
  });

  it('finds a set equal to what is live unchanged, and a changed one not', async () => {
    const set = [onNode(small, { name: 'same', cpu: '10m' })];
    await applySet(cluster, set, { fieldManager, force: false, namespace: ns });
    await trackRollout(cluster, ns, 'same', { timeoutMs: 30_000 });
    const notices: string[] = [];
    const result = await preflight(
      cluster,
      set,
      options({ log: { info() {}, warning() {}, notice: (m) => notices.push(m) } }),
    );
    expect(result.unchanged).toEqual({
      objects: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'same', namespace: ns, action: 'unchanged' },
      ],
      revision: 1,
    });
    expect(notices[0]).toMatch(
      /^unchanged: all 1 objects in namespace '.+' equal what is live and revision 1 is rolled out/,
    );
    const changed = onNode(small, { name: 'same', cpu: '20m' });
    expect((await preflight(cluster, [changed], options())).unchanged).toBeUndefined();
  });
});
