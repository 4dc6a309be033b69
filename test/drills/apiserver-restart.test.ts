import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// Drill: the API server goes away in the middle of a rollout the action is watching. The action must
// resume its watch when the server is back, see the rollout through, and lose nothing. It deploys as the
// production identity of docs/github-setup.md, as every drill that deploys does.

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('drill-apiserver');
const stackDir = process.env.STACK_DIR ?? '/tmp/archetype-stack';

/** k8s/ with minReadySeconds, so that the rollout lasts long enough to restart the server under it. */
function slowManifests(): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-slow-'));
  cpSync('k8s', dir, { recursive: true });
  const file = join(dir, 'deployment.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(/\n {2}replicas: 2\n/, '\n  replicas: 2\n  minReadySeconds: 6\n'),
  );
  return dir;
}

/** Kills the API server the hard way (a crash drops every connection at once) and starts it again. */
function restartApiServer(): void {
  const pid = Number(readFileSync(join(stackDir, 'pids', 'kube-apiserver.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  // up starts what is not running and waits until the API server answers /readyz
  execFileSync('scripts/local-stack', ['up'], { stdio: 'ignore', timeout: 120_000 });
}

let deployer: ProductionIdentity;

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace]);
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

it('resumes tracking after the API server restarts mid-rollout and finishes correctly', async () => {
  const inputs = {
    ...localTargetInputs(),
    kubeconfig: deployer.kubeconfig,
    mode: 'deploy',
    namespace,
    manifests: slowManifests(),
  };
  const first = await runAction(inputs, { sha: '1'.repeat(40) });
  expect(first.error).toBe('');

  const running = runAction({ ...inputs, 'rollout-timeout': '180s' }, { sha: '2'.repeat(40) });
  // wait until the new ReplicaSet exists (the action is tracking), then pull the server out from under it
  await eventually(
    'revision 2 to start',
    async () => {
      const d = await get<V1Deployment>(
        cluster,
        `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
      );
      return d?.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2' ? d : undefined;
    },
    120_000,
  );
  restartApiServer();
  const second = await running;

  expect(second.error).toBe('');
  expect(second.code).toBe(0);
  // the action did see the outage: it retried a request or resumed its watch
  expect(second.log).toMatch(/trying again for up to|the watch was resumed/);
  expect(second.outputs.revision).toBe('2');
  const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
  expect(d?.spec?.template.spec?.containers[0]?.image).toBe(second.outputs.image);
  expect(d?.status?.availableReplicas).toBe(2);
  expect(d?.status?.updatedReplicas).toBe(2);
});
