import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { isPushFailure } from '../../src/docker/push-retry.js';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { environmentState, newSha, RegistryProxy, tagCommits } from '../helpers/drills.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { type ActionRun, localTargetInputs, runAction } from '../helpers/run-action.js';

// Drill: the registry goes down while the action pushes. The push is tried again a bounded number of times
// (a registry blip is common on a real network), then the deploy fails with one clear sentence, and nothing
// is applied: the revision that served before still serves. The shared registry is never stopped: the
// action pushes through a proxy of the test's own that goes down on cue.

jest.setTimeout(600_000);

const cluster = testCluster();
const namespace = namespaceName('drill-registry');
const repository = `drills-${randomBytes(3).toString('hex')}/archetype`;
const proxy = new RegistryProxy();
const shas = [newSha(), newSha(), newSha(), newSha()];
let deployer: ProductionIdentity;
const inputs = (registry: string) => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  registry,
  mode: 'deploy',
  namespace,
  'image-name': repository,
});
const deploymentPath = `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`;
let served = '';

function expectClean(run: ActionRun) {
  expect(run.code).toBe(1);
  expect(run.log).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
}

/** The revision deployed before the outage still serves, unchanged. */
async function expectUntouched(generation: number | undefined) {
  const state = await environmentState(cluster, namespace);
  expect(state.image).toBe(served);
  expect(state.available).toBe(2);
  expect(state.shas.Deployment).toBe(shas[0]);
  expect((await get<V1Deployment>(cluster, deploymentPath))?.metadata?.generation).toBe(generation);
}

async function registryHasTag(sha: string): Promise<boolean> {
  const auth = Buffer.from(`${process.env.REGISTRY_USERNAME}:${process.env.REGISTRY_PASSWORD}`).toString(
    'base64',
  );
  const response = await fetch(`http://${process.env.REGISTRY}/v2/${repository}/manifests/${sha}`, {
    method: 'HEAD',
    headers: {
      Authorization: `Basic ${auth}`,
      Accept: 'application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return response.ok;
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace]);
  await proxy.start();
  await tagCommits(repository, [shas[0] as string]);
  const first = await runAction(inputs(proxy.host), { sha: shas[0] });
  expect(first.error).toBe('');
  served = first.outputs.image ?? '';
});

afterEach(() => proxy.reset());

afterAll(async () => {
  await deployer?.remove();
  await proxy.stop();
  await deleteNamespace(cluster, namespace);
});

it('a registry where nothing listens: a clear failure naming it, nothing applied', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const generation = (await get<V1Deployment>(cluster, deploymentPath))?.metadata?.generation;
  const run = await runAction({ ...inputs(`127.0.0.1:${closed}`), rebuild: 'true' }, { sha: shas[1] });
  expectClean(run);
  expect(run.error).toContain(`127.0.0.1:${closed}`);
  expect(run.error).toMatch(/connection refused/);
  await expectUntouched(generation);
});

it('down during the push: bounded retries, then a clear failure; nothing applied, the old revision serves', async () => {
  proxy.failAfterLogin();
  const generation = (await get<V1Deployment>(cluster, deploymentPath))?.metadata?.generation;
  const run = await runAction({ ...inputs(proxy.host), rebuild: 'true' }, { sha: shas[2] });
  expectClean(run);
  expect(proxy.refused).toBeGreaterThan(0);
  expect(run.error).toMatch(/push/);
  expect(run.error).toContain(proxy.host);
  expect(run.error).toMatch(/after 3 attempts/);
  expect(run.error).toMatch(/nothing was applied/);
  expect(run.log.match(/::warning::.*push.* failed \(attempt \d of 3\)/g)).toHaveLength(2);
  expect(await registryHasTag(shas[2] as string)).toBe(false);
  await expectUntouched(generation);
});

it('a short outage during the push: the retry pushes and the deploy completes', async () => {
  proxy.failAfterLogin(3_000);
  const run = await runAction({ ...inputs(proxy.host), rebuild: 'true' }, { sha: shas[3] });
  expect(run.error).toBe('');
  expect(proxy.refused).toBeGreaterThan(0);
  expect(run.log).toMatch(/::warning::.*push.* failed \(attempt 1 of 3\)/);
  expect(await registryHasTag(shas[3] as string)).toBe(true);
  const state = await environmentState(cluster, namespace);
  expect(state.shas.Deployment).toBe(shas[3]);
  expect(state.image).toBe(run.outputs.image);
  expect(state.available).toBe(2);
});

it('a failing Dockerfile step is not tried again: only the registry side is', async () => {
  const context = mkdtempSync(join(tmpdir(), 'drill-context-'));
  writeFileSync(
    join(context, 'Dockerfile'),
    'ARG NODE_IMAGE\nFROM --platform=linux/amd64 $NODE_IMAGE\nRUN ["node", "-e", "process.exit(3)"]\n',
  );
  const run = await runAction(
    { ...inputs(proxy.host), rebuild: 'true', context, 'build-secret-files': '' },
    { sha: newSha() },
  );
  expectClean(run);
  expect(run.error).toMatch(/docker buildx build failed at step/);
  expect(run.log).not.toMatch(/failed \(attempt \d of \d\)/);
  expect(isPushFailure(run.error)).toBe(false);
  expect(proxy.refused).toBe(0);
});
