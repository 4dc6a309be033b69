import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { deleteNamespace, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { registryTags } from '../helpers/images.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// A container whose image is neither the one the run builds nor a full reference (registry host and tag or
// digest) fails the deploy before the build, through dist/index.js as the production identity: `redis:7` in a
// CronJob would be pulled from docker.io at its first schedule, long after the deploy said it was done.

jest.setTimeout(180_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-imgref');
const repository = `${namespace}/ir-app`;
let deployer: ProductionIdentity;

function context(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ir-context-'));
  writeFileSync(join(dir, 'hello.txt'), 'image references\n');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  return dir;
}

/** A Deployment on the built image and, in its own file after a ConfigMap, a CronJob on `redis:7`. */
function manifests(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ir-k8s-'));
  const labels = { 'app.kubernetes.io/name': 'ir-app' };
  const container = { ...restrictedContainer, name: 'app', image: 'ir-app' };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ir-app' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { ...restrictedPod, containers: [container] } },
    },
  };
  writeFileSync(join(dir, 'deployment.yaml'), JSON.stringify(deployment, null, 2));
  writeFileSync(
    join(dir, 'jobs.yaml'),
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: ir-cache
data:
  size: "64mb"
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ir-warm
spec:
  schedule: "0 4 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: cache
              image: redis:7
`,
  );
  return dir;
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace], 'ir-app');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

it('refuses a CronJob on `redis:7` before the build, naming file:line, and applies nothing', async () => {
  const run = await runAction(
    {
      ...localTargetInputs(),
      kubeconfig: deployer.kubeconfig,
      mode: 'deploy',
      'app-name': 'ir-app',
      'image-name': repository,
      context: context(),
      namespace,
      manifests: manifests(),
    },
    { sha: 'c'.repeat(40) },
  );
  expect(run.code).toBe(1);
  expect(run.error).toMatch(
    /jobs\.yaml:8 CronJob\/ir-warm: container 'cache' has image 'redis:7', which is neither the image this run builds nor a full reference/,
  );
  expect(run.error).toContain(
    "write the full reference, e.g. docker.io/library/redis:7.2 or <registry>/<repo>@sha256:..., or name the image 'ir-app' to get the one this run builds",
  );
  // before the build: nothing built or pushed, nothing written to the cluster
  expect(run.log).not.toMatch(/pushed /);
  expect(await registryTags(repository)).toEqual([]);
  const objects = await Promise.all(
    [
      '/apis/batch/v1/namespaces/%/cronjobs',
      '/apis/apps/v1/namespaces/%/deployments',
      '/api/v1/namespaces/%/configmaps',
    ]
      .map((path) => path.replace('%', namespace))
      .map((path) =>
        cluster
          .request<{ items: { metadata?: { name?: string } }[] }>('GET', path)
          .then((list) => list.items.map((i) => i.metadata?.name)),
      ),
  );
  // kube-root-ca.crt is the namespace's own, made by the control plane
  expect(objects.flat().filter((name) => name !== 'kube-root-ca.crt')).toEqual([]);
});
