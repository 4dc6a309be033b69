import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type KubernetesObject, Watch } from '@kubernetes/client-node';
import { kindOf } from '../../src/kube/kinds.js';
import { deleteNamespace, eventually, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod, scratchContext } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// The apply tiers of src/kube/kinds.ts, end to end through dist/index.js as the production identity: what
// pods read when they start (ServiceAccounts, ConfigMaps, Secrets) is written, and acknowledged, before any
// Service or workload of the set. Watched from the API server: every object's ADDED event carries the etcd
// revision it was written at, so the order of the writes is read from the cluster, not from the log. With
// the whole set written at once, the eight objects' revisions would interleave.

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-tiers');
let deployer: ProductionIdentity;

const labels = { 'app.kubernetes.io/name': 'tiers-app' };
const objects = [
  // listed workloads first, so that the order written is the table's, not the files'
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'tiers-app' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...restrictedPod,
          serviceAccountName: 'tiers-runner',
          containers: [
            {
              ...restrictedContainer,
              name: 'app',
              image: 'tiers-app',
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
              envFrom: [{ configMapRef: { name: 'tiers-config' } }, { secretRef: { name: 'tiers-secret' } }],
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'tiers-app' },
    spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8000 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'tiers-other' },
    spec: { selector: labels, ports: [{ port: 81 }] },
  },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tiers-config' }, data: { MODE: 'one' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tiers-extra' }, data: { MORE: 'two' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tiers-secret' }, stringData: { TOKEN: 'three' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tiers-runner' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tiers-other' } },
];

function manifests(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiers-k8s-'));
  objects.forEach((o, i) => {
    writeFileSync(join(dir, `${i}-${o.kind.toLowerCase()}.yaml`), JSON.stringify(o, null, 2));
  });
  return dir;
}

interface Added {
  ref: string;
  revision: bigint;
}

/** Watches the namespace's objects of the set's kinds; records the revision each of the set's was added at. */
async function watchAdded(): Promise<{ added: Added[]; stop: () => void }> {
  const added: Added[] = [];
  const names = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
  const paths = [
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    `/api/v1/namespaces/${namespace}/services`,
    `/api/v1/namespaces/${namespace}/configmaps`,
    `/api/v1/namespaces/${namespace}/secrets`,
    `/api/v1/namespaces/${namespace}/serviceaccounts`,
  ];
  const watch = new Watch(cluster.kubeConfig);
  const kinds = ['Deployment', 'Service', 'ConfigMap', 'Secret', 'ServiceAccount'];
  const controllers = await Promise.all(
    paths.map((path, i) =>
      watch.watch(
        path,
        {},
        (type: string, object: KubernetesObject) => {
          const ref = `${kinds[i]}/${object.metadata?.name}`;
          if (type === 'ADDED' && names.has(ref))
            added.push({ ref, revision: BigInt(object.metadata?.resourceVersion ?? '0') });
        },
        () => undefined,
      ),
    ),
  );
  return {
    added,
    stop: () => {
      for (const c of controllers) c.abort();
    },
  };
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace], 'tiers-app');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

it("writes what pods read at start before the set's Services and workloads, as the kinds table orders", async () => {
  // the table says so: the test follows it
  const stage = (ref: string) => kindOf(ref.split('/')[0])?.stage;
  expect(objects.map((o) => stage(`${o.kind}/`))).toEqual([2, 2, 2, 1, 1, 1, 1, 1]);

  const watching = await watchAdded();
  try {
    const run = await runAction(
      {
        ...localTargetInputs(),
        kubeconfig: deployer.kubeconfig,
        mode: 'deploy',
        'app-name': 'tiers-app',
        'image-name': `${namespace}/tiers-app`,
        context: scratchContext('tiers'),
        namespace,
        manifests: manifests(),
        'smoke-check': 'false',
        'rollout-timeout': '120s',
      },
      { sha: 'a1'.repeat(20) },
    );
    expectRunOk(run);
    const added = await eventually(
      'an ADDED event for each of the eight objects',
      async () => (watching.added.length >= objects.length ? watching.added : undefined),
      10_000,
    );
    const first = added.filter((a) => stage(a.ref) === 1);
    const rest = added.filter((a) => stage(a.ref) === 2);
    expect(first).toHaveLength(5);
    expect(rest).toHaveLength(3);
    const byRevision = (a: Added, b: Added) => (a.revision < b.revision ? -1 : 1);
    const lastOfFirst = first.sort(byRevision).at(-1)?.revision;
    const firstOfRest = rest.sort(byRevision)[0]?.revision;
    expect({
      lastOfFirst,
      firstOfRest,
      ok: lastOfFirst !== undefined && firstOfRest !== undefined && lastOfFirst < firstOfRest,
    }).toEqual({
      lastOfFirst,
      firstOfRest,
      ok: true,
    });
  } finally {
    watching.stop();
  }
});
