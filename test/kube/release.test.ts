import type { KubernetesObject } from '@kubernetes/client-node';
import { prune } from '../../src/kube/apply/apply.js';
import {
  lastDeployed,
  listReleases,
  markRelease,
  readRelease,
  recordRelease,
  releaseHistory,
} from '../../src/kube/release/release.js';
import { deleteNamespace, namespaceName, testCluster } from '../helpers/cluster.js';

// Release records against the real API server: what is stored comes back whole, the outcome moves, the
// history stays bounded, and prune never takes a record for part of the app.

const cluster = testCluster();
const ns = namespaceName('t-release');
const set = (mode: string): KubernetesObject[] => [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode } } as KubernetesObject,
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'token' },
    stringData: { key: `k-${mode}` },
  } as KubernetesObject,
];

beforeAll(async () => {
  await cluster.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await deleteNamespace(cluster, ns);
});

it('records a set, reads it back whole, and moves its outcome', async () => {
  const first = await recordRelease(
    cluster,
    ns,
    'app',
    { sha: 'a'.repeat(40), image: 'r/app@sha256:1', objects: set('a') },
    [],
  );
  expect(first).toMatchObject({ number: 1, outcome: 'pending', secret: 'app-release-v1' });
  const listed = await listReleases(cluster, ns, 'app');
  expect(listed.map((r) => [r.number, r.outcome, r.sha, r.image])).toEqual([
    [1, 'pending', 'a'.repeat(40), 'r/app@sha256:1'],
  ]);
  expect(lastDeployed(listed)).toBeUndefined();
  expect((await readRelease(cluster, ns, listed[0] as never)).objects).toEqual(set('a'));
  await markRelease(cluster, ns, first, 'deployed');
  expect(lastDeployed(await listReleases(cluster, ns, 'app'))?.number).toBe(1);
  await markRelease(cluster, ns, first, 'failed', 'the rollout failed');
  const again = await listReleases(cluster, ns, 'app');
  expect(again.map((r) => [r.outcome, r.note])).toEqual([['failed', 'the rollout failed']]);
  // another app in the same namespace has releases of its own
  expect(await listReleases(cluster, ns, 'other')).toEqual([]);
});

it('keeps a bounded history, numbering on from the newest', async () => {
  for (let i = 0; i < releaseHistory + 2; i++) {
    const existing = await listReleases(cluster, ns, 'app');
    await recordRelease(
      cluster,
      ns,
      'app',
      { sha: String(i).repeat(40), image: 'x', objects: set(String(i)) },
      existing,
    );
  }
  const numbers = (await listReleases(cluster, ns, 'app')).map((r) => r.number);
  expect(numbers).toHaveLength(releaseHistory);
  expect(numbers.at(-1)).toBe(releaseHistory + 3);
  expect(numbers[0]).toBe(4);
});

it('is never pruned as part of the app', async () => {
  const pruned = await prune(cluster, ns, 'app', []);
  expect(pruned).toEqual([]);
  expect(await listReleases(cluster, ns, 'app')).toHaveLength(releaseHistory);
});
