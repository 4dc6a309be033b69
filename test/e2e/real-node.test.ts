import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { pushNodeScriptImage } from '../helpers/images.js';
import {
  frontDoorGet,
  inCidr,
  realNode,
  realNodeManifests,
  realNodeReport,
  requestLoop,
  serviceProxyPath,
  withPullSecret,
} from '../helpers/real-node.js';
import { type ActionRun, expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// The push deploy end to end, as a runner runs dist/index.js, onto the local target's real node (kubelet +
// containerd): the action builds the archetype with REVISION=<commit>, pushes it, and the kubelet pulls it by
// digest with the namespace's imagePullSecret, as an AKS node pulls from ACR. The manifests are k8s/ with the
// real node's nodeSelector, toleration and pull secret added (scripts/lib/real-node-overlay.mjs); GET /
// through the API server's service proxy says which commit answers. The action deploys as the production
// identity of docs/github-setup.md; the pull secret is the cluster admin's, made once, as an admin would.

jest.setTimeout(600_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-real');
const sha = (c: string) => c.repeat(40);
let manifests = '';
const folders: string[] = [];
let deployer: ProductionIdentity;

const base = () => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  namespace,
  // its own host: the front door serves one Ingress per host and path, the oldest
  host: `${namespace}.localhost`,
  manifests,
  'rollout-timeout': '240s',
  'smoke-check': 'true',
});

async function answer(): Promise<string> {
  const body = await cluster.request<string>('GET', serviceProxyPath(namespace, 'archetype', 80), {
    text: true,
  });
  return (JSON.parse(body) as { revision: string }).revision;
}

async function pods(): Promise<V1Pod[]> {
  return (
    await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
      query: { labelSelector: 'app.kubernetes.io/name=archetype' },
    })
  ).items;
}

/** expectRunOk, with the real node's pods and the namespace's warnings first in the message. */
async function expectOk(run: ActionRun): Promise<void> {
  if (run.code !== 0) expectRunOk(run, await realNodeReport(cluster, namespace));
}

beforeAll(async () => {
  realNode();
  deployer = await productionIdentity(cluster, [namespace]);
  await withPullSecret(namespace);
  manifests = await realNodeManifests();
  folders.push(manifests);
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('deploy onto the real node', () => {
  it('rolls out the commit: 2 real pods Ready on the real node, GET / answers its revision', async () => {
    const run = await runAction(base(), { sha: sha('1') });
    await expectOk(run);
    expect(run.outputs.revision).toBe('1');
    // the action's own smoke check went through the Service to a real pod, then through the Ingress
    expect(run.log).toContain(`GET / answered revision ${sha('1')}`);
    expect(run.log).toContain(
      `front door: GET http://${namespace}.localhost/ through Ingress/archetype at 127.0.0.1:80 answered revision ${sha('1')}`,
    );
    const viaIngress = JSON.parse(await frontDoorGet(`${namespace}.localhost`)) as { revision: string };
    expect(viaIngress.revision).toBe(sha('1'));
    const { name, podCidr } = realNode();
    const list = await pods();
    expect(list).toHaveLength(2);
    for (const p of list) {
      expect(p.spec?.nodeName).toBe(name);
      expect(inCidr(p.status?.podIP ?? '', podCidr)).toBe(true);
      expect(p.status?.containerStatuses?.[0]?.ready).toBe(true);
      expect(p.status?.containerStatuses?.[0]?.imageID).toBe(run.outputs.image);
    }
    expect(await answer()).toBe(sha('1'));
  });

  it('rolls out the next commit with zero failed requests through the Service and the Ingress meanwhile', async () => {
    let finished = 0;
    // from before the action starts until its old pods have drained (SHUTDOWN_DELAY_MS 5 s) and stopped
    const until = () => finished > 0 && Date.now() - finished > 10_000;
    const loop = requestLoop(cluster, serviceProxyPath(namespace, 'archetype', 80), until, {
      maxRequests: 5000,
      maxMs: 540_000,
      intervalMs: 50,
    });
    const front = requestLoop(cluster, () => frontDoorGet(`${namespace}.localhost`), until, {
      maxRequests: 5000,
      maxMs: 540_000,
      intervalMs: 50,
    });
    const run = await runAction(base(), { sha: sha('2') }).finally(() => {
      finished = Date.now();
    });
    const requests = await loop;
    const viaIngress = await front;
    for (const [via, r] of [
      ['the Service', requests],
      ['the Ingress', viaIngress],
    ] as const)
      console.log(
        `through ${via}: ${r.sent} requests during the rollout of commit 2, ${r.failed} failed, by revision ${JSON.stringify(
          Object.fromEntries(Object.entries(r.revisions).map(([rev, n]) => [rev.slice(0, 7), n])),
        )}`,
      );
    await expectOk(run);
    expect(run.outputs.revision).toBe('2');
    for (const r of [requests, viaIngress]) {
      expect(r.failures).toEqual([]);
      expect(r.failed).toBe(0);
      expect(r.revisions[sha('1')]).toBeGreaterThan(0);
      expect(r.revisions[sha('2')]).toBeGreaterThan(0);
    }
    expect(await answer()).toBe(sha('2'));
    const list = await pods();
    expect(list.map((p) => p.status?.containerStatuses?.[0]?.imageID)).toEqual([
      run.outputs.image,
      run.outputs.image,
    ]);
  });

  it('a commit whose container exits is diagnosed from its real log and rolled back; the previous commit answers', async () => {
    const crashing = await realNodeManifests((file, text) =>
      file === 'deployment.yaml'
        ? text.replace(
            /( {12}- name: SHUTDOWN_DELAY_MS\n)/,
            // the service quotes the bad value in its log: HTML from a pod's log must never render
            '            - name: LOG_LEVEL\n              value: "<img src=x>"\n$1',
          )
        : text,
    );
    folders.push(crashing);
    const run = await runAction({ ...base(), manifests: crashing }, { sha: sha('3') });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(/exit code 1/);
    expect(run.error).toMatch(
      /Rolled back to release \d+ \([0-9a-f]{7}\): revision \d+'s pods are serving again\.$/,
    );
    // the kubelet served the container's log: the reason it exited is in the diagnosis
    expect(run.log).toContain('LOG_LEVEL must be one of');
    expect(run.summary).toContain('&#60;img src=x&#62;');
    expect(run.summary).not.toContain('<img');
    const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
    expect(d?.status?.availableReplicas).toBe(2);
    expect(await answer()).toBe(sha('2'));
  });

  it('a commit that rolls out but fails the smoke check is rolled back; the previous release answers', async () => {
    // Ready pods that answer another revision than the commit's: the smoke check through the Service fails
    const wrong = await realNodeManifests((file, text) =>
      file === 'deployment.yaml'
        ? text.replace(
            /( {12}- name: SHUTDOWN_DELAY_MS\n)/,
            '            - name: REVISION\n              value: not-this-commit\n$1',
          )
        : text,
    );
    folders.push(wrong);
    const run = await runAction({ ...base(), manifests: wrong }, { sha: sha('4') });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(/not-this-commit/);
    expect(run.error).toMatch(
      new RegExp(
        `Rolled back to release \\d+ \\(${sha('2').slice(0, 7)}\\): revision \\d+'s pods are serving again\\.$`,
      ),
    );
    expect(await answer()).toBe(sha('2'));
    const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
    const env = d?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'REVISION')).toBeUndefined();
  });

  it('a set with a non-HTTP Service passes: that Service gets the endpoints check, no HTTP request', async () => {
    // a cache on 6379 beside the app, on the real node: another image, another protocol
    const cache = await pushNodeScriptImage(
      `${namespace}/cache`,
      "require('net').createServer((s) => s.end('+PONG\\r\\n')).listen(6379)",
    );
    const dir = mkdtempSync(join(tmpdir(), 'k8s-with-cache-'));
    folders.push(dir);
    cpSync('k8s', dir, { recursive: true });
    const labels = { 'app.kubernetes.io/name': 'cache' };
    const objects = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'cache', labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              ...restrictedPod,
              containers: [
                {
                  ...restrictedContainer,
                  name: 'cache',
                  image: cache,
                  ports: [{ name: 'redis', containerPort: 6379 }],
                  readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 1 },
                  resources: { requests: { cpu: '10m', memory: '32Mi' } },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'cache', labels },
        spec: { selector: labels, ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }] },
      },
    ];
    writeFileSync(join(dir, 'cache.yaml'), objects.map((o) => JSON.stringify(o)).join('\n---\n'));
    const withCache = await realNodeManifests(undefined, dir);
    folders.push(withCache);
    const run = await runAction({ ...base(), manifests: withCache }, { sha: sha('5') });
    await expectOk(run);
    expect(run.log).toContain(
      'smoke check of Service/cache: not run, its pods do not run the image just built (endpoints only)',
    );
    expect(run.log).toMatch(/Service\/cache: 1 ready endpoint/);
    expect(run.log).toContain(`GET / answered revision ${sha('5')}`);
    expect(await answer()).toBe(sha('5'));
  });

  /** k8s/ with a pre-deploy Job that runs the built image with `script`, on the real node */
  async function withMigration(script: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-with-migration-'));
    folders.push(dir);
    cpSync('k8s', dir, { recursive: true });
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', annotations: { 'archetype-deploy.github.io/pre-deploy': 'true' } },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            ...restrictedPod,
            restartPolicy: 'Never',
            containers: [
              {
                ...restrictedContainer,
                name: 'migrate',
                image: 'archetype',
                command: ['node', '-e', script],
                resources: { requests: { cpu: '10m', memory: '32Mi' } },
              },
            ],
          },
        },
      },
    };
    writeFileSync(join(dir, 'migrate.yaml'), JSON.stringify(job));
    const out = await realNodeManifests(undefined, dir);
    folders.push(out);
    return out;
  }

  const liveImage = async () =>
    (await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`))?.spec
      ?.template?.spec?.containers?.[0]?.image;

  it('a failing pre-deploy Job stops the deploy with its log; nothing else is applied, the previous release answers', async () => {
    const before = await liveImage();
    const manifests = await withMigration(
      "console.log('migration 0042: adding column'); console.error('migration 0042 failed: relation \"users\" does not exist'); process.exit(3)",
    );
    const run = await runAction({ ...base(), manifests }, { sha: sha('6') });
    expect(run.code).not.toBe(0);
    expect(run.error).toContain('pre-deploy Job/migrate did not complete');
    expect(run.error).toContain('migration 0042 failed: relation "users" does not exist');
    expect(run.error).toMatch(
      /Nothing else of release \d+ was applied: release \d+ \(5555555\) is still serving/,
    );
    expect(await liveImage()).toBe(before);
    expect(await answer()).toBe(sha('5'));
  });

  it('a pre-deploy Job runs to completion before the rest is applied, and is replaced by the next release', async () => {
    const manifests = await withMigration("console.log('migrated')");
    const run = await runAction({ ...base(), manifests }, { sha: sha('7') });
    await expectOk(run);
    expect(run.log).toMatch(/pre-deploy Job\/migrate complete in [\d.]+ s/);
    expect(run.log).toContain('Job/migrate replaced');
    const job = await get<{ status?: { completionTime?: string } }>(
      cluster,
      `/apis/batch/v1/namespaces/${namespace}/jobs/migrate`,
    );
    const sets = await cluster.request<{ items: V1ReplicaSet[] }>(
      'GET',
      `/apis/apps/v1/namespaces/${namespace}/replicasets`,
      { query: { labelSelector: 'app.kubernetes.io/name=archetype' } },
    );
    const current = sets.items.find(
      (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === run.outputs.revision,
    );
    // the new revision's ReplicaSet was made after the migration had completed
    expect(Date.parse(current?.metadata?.creationTimestamp as unknown as string)).toBeGreaterThanOrEqual(
      Date.parse(job?.status?.completionTime ?? 'never'),
    );
    expect(await answer()).toBe(sha('7'));
  });
});
