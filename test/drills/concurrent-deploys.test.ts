import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { lockEnvironment, readLock } from '../../src/kube/release/lock.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { environmentState, githubRun, newSha, slowManifests, tagCommits } from '../helpers/drills.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { type ActionRun, localTargetInputs, runAction } from '../helpers/run-action.js';

// Drill: two deploys of different commits start together for the same environment. GitHub's concurrency
// group normally serialises them, but the action must be safe on its own: the final state is the newer
// commit, every object of the set comes from one commit, and an older commit that gets its turn second is
// refused as superseded instead of overwriting the newer one.

jest.setTimeout(600_000);

const cluster = testCluster();
const namespace = namespaceName('drill-race');
const repository = `drills-${randomBytes(3).toString('hex')}/archetype`;
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
const short = (sha: string) => sha.slice(0, 7);
let deployer: ProductionIdentity;
const inputs = () => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  namespace,
  'image-name': repository,
  // each rollout lasts a few seconds, so that the two deploys overlap
  manifests: slowManifests(3),
  'rollout-timeout': '3m',
});
const deployCommit = (sha: string, runNumber: number) =>
  runAction(inputs(), { sha, env: githubRun(runNumber) });

const shas = Array.from({ length: 10 }, newSha);

/** Waits until the run of `sha` holds the environment's lock (its rollout is under way). */
const lockHeldBy = (sha: string, what: string) =>
  eventually(
    what,
    async () => {
      const leases = await get<{ items: { spec?: { holderIdentity?: string } }[] }>(cluster, leasePath);
      return leases?.items.some((l) => l.spec?.holderIdentity?.includes(short(sha)));
    },
    120_000,
  );

function expectWhole(state: Awaited<ReturnType<typeof environmentState>>, sha: string) {
  expect(state.shas).toEqual({ Deployment: sha, Service: sha, Ingress: sha });
  expect(state.templateVersion).toBe(short(sha));
  expect(state.available).toBe(2);
  expect(state.updated).toBe(2);
}

function expectCleanFailure(run: ActionRun) {
  expect(run.code).toBe(1);
  expect(run.log).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace]);
  await tagCommits(repository, shas);
  const first = await deployCommit(shas[0] as string, 100);
  expect(first.error).toBe('');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

it('an older commit that starts while a newer one is rolling out is refused as superseded', async () => {
  const [newer, older] = [shas[2] as string, shas[1] as string];
  const running = deployCommit(newer, 102);
  // the newer deploy holds the environment's lock: its rollout is under way
  await lockHeldBy(newer, 'the newer deploy to hold the lock');
  const late = await deployCommit(older, 101);
  const done = await running;

  expect(done.error).toBe('');
  expectCleanFailure(late);
  expect(late.error).toMatch(/superseded/);
  expect(late.error).toContain(short(newer));
  expect(late.error).toMatch(/nothing was applied/i);
  const state = await environmentState(cluster, namespace);
  expectWhole(state, newer);
  // the older commit never reached the cluster: no ReplicaSet was made from it
  expect(state.replicaSetVersions).not.toContain(short(older));
});

it('a newer commit that starts while an older one is rolling out waits for it, then rolls out over it', async () => {
  const [older, newer] = [shas[7] as string, shas[8] as string];
  const running = deployCommit(older, 103);
  await lockHeldBy(older, 'the older deploy to hold the lock');
  const late = await deployCommit(newer, 104);
  const first = await running;

  expect(first.error).toBe('');
  expect(late.error).toBe('');
  expect(late.log).toMatch(
    /waiting for the deploy lock of namespace '.*' \(Lease archetype-deploy-lock\): another run holds it \('run \S+ [0-9a-f]{7}/,
  );
  expect(late.log).toMatch(/got the deploy lock of namespace .* after \d+ s/);
  const state = await environmentState(cluster, namespace);
  expectWhole(state, newer);
  expect(state.replicaSetVersions).toContain(short(older));
});

it('gives up waiting after its bound with a clear message, applying nothing', async () => {
  const held = await lockEnvironment(cluster, {
    namespace,
    instance: 'archetype',
    run: { id: 'local.1', sha: 'f'.repeat(40) },
    rolloutTimeoutMs: 60_000,
  });
  try {
    await expect(
      lockEnvironment(cluster, {
        namespace,
        instance: 'archetype',
        run: { id: 'local.2', sha: 'e'.repeat(40) },
        rolloutTimeoutMs: 60_000,
        waitMs: 2_500,
        pollMs: 500,
      }),
    ).rejects.toThrow(
      /another run \('run \S+ fffffff .*'.*\) still holds the deploy lock of namespace '.*' \(Lease archetype-deploy-lock\) after 3 s of waiting; nothing was changed/,
    );
  } finally {
    await held.release();
  }
  const lease = await get<{ spec: { holderIdentity?: string } }>(
    cluster,
    `${leasePath}/archetype-deploy-lock`,
  );
  expect(lease?.spec.holderIdentity).toBeUndefined();
});

it('counts reads taken ahead of the lock only when no other run took it in between', async () => {
  // as the deploys take it: the production identity rbac/ gives them
  const asDeployer = testCluster(deployer.kubeconfig);
  const take = (id: string, reads?: ReturnType<typeof readLock>) =>
    lockEnvironment(asDeployer, {
      namespace,
      instance: 'archetype',
      run: { id, sha: 'd'.repeat(40) },
      rolloutTimeoutMs: 60_000,
      pollMs: 200,
      ...(reads ? { reads } : {}),
    });
  // free when read, and still free when written: what was read after the Lease holds
  const free = await take('local.3', readLock(asDeployer, namespace, 'archetype'));
  expect(free.takenAsRead).toBe(true);
  await free.release();

  // another run took the lock (and let it go) between the read and the write: the write conflicts
  const stale = readLock(asDeployer, namespace, 'archetype');
  await stale.lease;
  const between = await take('local.4');
  expect(between.takenAsRead).toBe(false);
  await between.release();
  const after = await take('local.5', stale);
  expect(after.takenAsRead).toBe(false);
  await after.release();

  // held when read: taken only after waiting
  const held = await take('local.6');
  const waiting = take('local.7', readLock(asDeployer, namespace, 'archetype'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await held.release();
  const waited = await waiting;
  expect(waited.takenAsRead).toBe(false);
  await waited.release();
});

it('two deploys started at the same moment end with the newer commit, the set whole', async () => {
  const [older, newer] = [shas[3] as string, shas[4] as string];
  const [a, b] = await Promise.all([deployCommit(older, 105), deployCommit(newer, 106)]);

  expect(b.error).toBe('');
  // the older one either went first and finished, or came second and was refused
  if (a.code !== 0) {
    expectCleanFailure(a);
    expect(a.error).toMatch(/superseded/);
  }
  expect(`${a.log}\n${b.log}`).toMatch(/waiting for the deploy lock|superseded/);
  expectWhole(await environmentState(cluster, namespace), newer);
});

it('takes over a lock whose holder stopped renewing it (a cancelled run), and a later run of an old commit is refused', async () => {
  // a run that was killed while it held the lock: its lease expired long ago
  const lease = await get<{ metadata: { name: string; resourceVersion: string }; spec: object }>(
    cluster,
    `${leasePath}/archetype-deploy-lock`,
  );
  expect(lease).toBeDefined();
  const stale = new Date(Date.now() - 3_600_000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  await cluster.request('PATCH', `${leasePath}/archetype-deploy-lock`, {
    contentType: 'application/merge-patch+json',
    body: { spec: { holderIdentity: 'run 1.1 deadbee (cancelled)', renewTime: stale, acquireTime: stale } },
  });
  const next = shas[5] as string;
  const run = await deployCommit(next, 107);
  expect(run.error).toBe('');
  expect(run.log).toMatch(/expired/);
  expectWhole(await environmentState(cluster, namespace), next);

  // a re-run of an old workflow run (run number 99) after run 107 deployed: refused, nothing changes
  const before = await get<V1Deployment>(
    cluster,
    `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
  );
  const rerun = await deployCommit(shas[6] as string, 99);
  expectCleanFailure(rerun);
  expect(rerun.error).toMatch(/superseded/);
  const after = await get<V1Deployment>(
    cluster,
    `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
  );
  expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
  expectWhole(await environmentState(cluster, namespace), next);
});

it('a deploy of an image already pushed that waits for the lock reads again under it', async () => {
  const holder = shas[9] as string;
  const running = deployCommit(holder, 108);
  await lockHeldBy(holder, 'the first deploy to hold the lock');
  // the first commit's image is in the registry since beforeAll: its lock and preflight reads go out
  // while the registry is asked, and find the lock held
  const pushed = await deployCommit(shas[0] as string, 109);
  expect((await running).error).toBe('');
  expect(pushed.error).toBe('');
  expect(pushed.log).toContain('is already in the registry');
  expect(pushed.log).toMatch(/waiting for the deploy lock/);
  expect(pushed.log).toContain(
    'the deploy lock was not taken on its first read: preflight again, under the lock',
  );
  expectWhole(await environmentState(cluster, namespace), shas[0] as string);
});
