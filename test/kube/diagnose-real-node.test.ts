// diagnose() on the six real failures the real node produces (scripts/local-stack: kubelet + containerd,
// node `localhost`): each in its own namespace, a Deployment whose revision 1 is the good archetype image
// and whose revision 2 fails; the sentence must name what the kubelet reported, and the template diff what
// changed from revision 1. The six rollouts run at the same time; each test waits for its own.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Container, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { applySet } from '../../src/kube/apply/apply.js';
import type { Cluster } from '../../src/kube/client/client.js';
import { type Diagnosis, diagnose } from '../../src/kube/diagnosis/diagnose.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import {
  buildArchetypeImage,
  pullSecretName,
  pushArm64Image,
  type RealNode,
  realNode,
  withPullSecret,
} from '../helpers/real-node.js';

const run = promisify(execFile);
const fieldManager = 'diagnose-real-node-test';
const name = 'archetype';
const waitMs = 90_000;

let cluster: Cluster;
let node: RealNode;
let registry: string;
let dockerConfig: string | undefined;
const namespaces: string[] = [];

/** The archetype on the real node: one replica, probed on /readyz; change edits the container. */
function archetypeDeployment(
  namespace: string,
  image: string,
  change: (c: V1Container) => void = () => undefined,
  secret = pullSecretName,
): V1Deployment {
  const container: V1Container = {
    name: 'app',
    image,
    ports: [{ name: 'http', containerPort: 8000 }],
    env: [{ name: 'PORT', value: '8000' }],
    readinessProbe: { httpGet: { path: '/readyz', port: 8000 }, periodSeconds: 1 },
  };
  change(container);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name } },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': name } },
        spec: {
          nodeSelector: { [node.label]: 'true' },
          tolerations: [{ key: node.label, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
          imagePullSecrets: [{ name: secret }],
          terminationGracePeriodSeconds: 2,
          containers: [container],
        },
      },
    },
  };
}

async function apply(namespace: string, object: V1Deployment): Promise<void> {
  await applySet(cluster, [object as never], { fieldManager, force: true, namespace });
}

/** The pods of the Deployment's ReplicaSet of the given revision. */
async function podsOfRevision(namespace: string, revision: string): Promise<V1Pod[]> {
  const sets = await cluster.request<{ items: V1ReplicaSet[] }>(
    'GET',
    `/apis/apps/v1/namespaces/${namespace}/replicasets`,
  );
  const rs = sets.items.find(
    (s) => s.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision,
  );
  const hash = rs?.metadata?.labels?.['pod-template-hash'];
  if (!hash) return [];
  const pods = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: `pod-template-hash=${hash}` },
  });
  return pods.items;
}

interface Scenario {
  namespace: string;
  revision1: V1Deployment;
  revision2: V1Deployment;
  /** the failing pod (of revision 2) shows the kubelet's reason */
  failing: (pod: V1Pod, namespace: string) => Promise<boolean>;
}

interface Outcome {
  diagnosis: Diagnosis;
  namespace: string;
  pod: string;
}

/** Revision 1 up and Ready on the real node, then revision 2; diagnose() once the kubelet says why it fails. */
async function rollout(s: Scenario): Promise<Outcome> {
  await apply(s.namespace, s.revision1);
  await eventually(
    'revision 1 Ready on the real node',
    async () => {
      const d = await get<V1Deployment>(
        cluster,
        `/apis/apps/v1/namespaces/${s.namespace}/deployments/${name}`,
      );
      return d?.status?.readyReplicas === 1 && d.status.updatedReplicas === 1 ? true : undefined;
    },
    waitMs,
  );
  await apply(s.namespace, s.revision2);
  const pod = await eventually(
    "revision 2's pod showing the kubelet's reason",
    async () => {
      const [p] = await podsOfRevision(s.namespace, '2');
      return p && p.spec?.nodeName === node.name && (await s.failing(p, s.namespace)) ? p : undefined;
    },
    waitMs,
  );
  const diagnosis = await diagnose(cluster, s.namespace, name);
  console.log(`${s.namespace}: ${diagnosis.summary}`);
  return { diagnosis, namespace: s.namespace, pod: pod.metadata?.name ?? '' };
}

const status = (p: V1Pod) => p.status?.containerStatuses?.[0];
const pulling = (p: V1Pod) =>
  /^(ErrImagePull|ImagePullBackOff)$/.test(status(p)?.state?.waiting?.reason ?? '');

async function freshNamespace(prefix: string): Promise<string> {
  const namespace = namespaceName(prefix);
  namespaces.push(namespace);
  return withPullSecret(namespace);
}

const outcomes: Record<string, Promise<Outcome>> = {};
const images: { rev1: string; rev2: string; arm64: string; missing: string } = {
  rev1: '',
  rev2: '',
  arm64: '',
  missing: '',
};

beforeAll(async () => {
  cluster = testCluster();
  node = realNode();
  registry = process.env.REGISTRY ?? '';
  if (!registry) throw new Error('REGISTRY is not set: eval "$(scripts/local-stack env)"');
  images.missing = `${registry}/archetype@sha256:${'1'.repeat(64)}`;
  dockerConfig = mkdtempSync(join(tmpdir(), 'diagnose-real-node-docker-'));
  const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
  const login = run(
    'docker',
    ['login', registry, '--username', process.env.REGISTRY_USERNAME ?? '', '--password-stdin'],
    { env },
  );
  login.child.stdin?.end(process.env.REGISTRY_PASSWORD ?? '');
  await login;
  const suffix = namespaceName('d').slice(2);
  const rev1 = await buildArchetypeImage(registry, `diagnose-${suffix}-1`, env);
  const rev2 = await buildArchetypeImage(registry, `diagnose-${suffix}-2`, env);
  images.rev1 = rev1;
  images.rev2 = rev2;
  images.arm64 = `${registry}/archetype-arm64@${await pushArm64Image(`${registry}/archetype-arm64:diagnose-${suffix}`, env)}`;

  const scenarios: Record<string, () => Promise<Scenario>> = {
    notFound: async () => {
      const namespace = await freshNamespace('dr-notfound');
      return {
        namespace,
        revision1: archetypeDeployment(namespace, rev1),
        revision2: archetypeDeployment(namespace, images.missing),
        failing: async (p) => pulling(p),
      };
    },
    credentials: async () => {
      const namespace = await freshNamespace('dr-creds');
      const wrong = Buffer.from(
        JSON.stringify({
          auths: {
            [registry]: {
              auth: Buffer.from(`${process.env.REGISTRY_USERNAME}:wrong-password`).toString('base64'),
            },
          },
        }),
      ).toString('base64');
      await cluster.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'wrong-credentials' },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': wrong },
        },
      });
      return {
        namespace,
        revision1: archetypeDeployment(namespace, rev1),
        // Always: the node may hold the image already, and only a pull asks the registry for credentials
        revision2: archetypeDeployment(
          namespace,
          rev2,
          (c) => {
            c.imagePullPolicy = 'Always';
          },
          'wrong-credentials',
        ),
        failing: async (p) => pulling(p),
      };
    },
    exits: async () => {
      const namespace = await freshNamespace('dr-exits');
      return {
        namespace,
        revision1: archetypeDeployment(namespace, rev1),
        revision2: archetypeDeployment(namespace, rev1, (c) => {
          c.command = ['node', '-e', "console.error('boom: missing DATABASE_URL'); process.exit(3)"];
        }),
        failing: async (p) =>
          status(p)?.state?.waiting?.reason === 'CrashLoopBackOff' &&
          status(p)?.lastState?.terminated?.exitCode === 3,
      };
    },
    oom: async () => {
      const namespace = await freshNamespace('dr-oom');
      return {
        namespace,
        revision1: archetypeDeployment(namespace, rev1),
        revision2: archetypeDeployment(namespace, rev1, (c) => {
          c.command = ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'];
          c.resources = { limits: { memory: '64Mi' } };
        }),
        failing: async (p) =>
          (status(p)?.state?.terminated ?? status(p)?.lastState?.terminated)?.reason === 'OOMKilled',
      };
    },
    neverReady: async () => {
      const namespace = await freshNamespace('dr-probe');
      return {
        namespace,
        revision1: archetypeDeployment(namespace, rev1),
        revision2: archetypeDeployment(namespace, rev1, (c) => {
          c.readinessProbe = { httpGet: { path: '/no-such-path', port: 8000 }, periodSeconds: 1 };
        }),
        // the newest Unhealthy event of the pod says 404 (the first ones may say "connection refused")
        failing: async (p, namespace) => {
          if (!status(p)?.state?.running) return false;
          const events = await cluster.request<{
            items: { reason?: string; message?: string; lastTimestamp?: string }[];
          }>('GET', `/api/v1/namespaces/${namespace}/events`, {
            query: { fieldSelector: `involvedObject.name=${p.metadata?.name}` },
          });
          const unhealthy = events.items
            .filter((e) => e.reason === 'Unhealthy')
            .sort(
              (a, b) => new Date(a.lastTimestamp ?? 0).getTime() - new Date(b.lastTimestamp ?? 0).getTime(),
            );
          return /statuscode: 404/.test(unhealthy.at(-1)?.message ?? '');
        },
      };
    },
    architecture: async () => {
      const namespace = await freshNamespace('dr-arch');
      return {
        namespace,
        revision1: archetypeDeployment(namespace, rev1),
        revision2: archetypeDeployment(namespace, images.arm64),
        failing: async (p) =>
          status(p)?.state?.waiting?.reason === 'CrashLoopBackOff' && (status(p)?.restartCount ?? 0) >= 1,
      };
    },
  };
  for (const [key, make] of Object.entries(scenarios)) {
    outcomes[key] = make().then(rollout);
    outcomes[key].catch(() => undefined); // awaited (and reported) by its test
  }
}, 5 * 60_000);

afterAll(async () => {
  await Promise.allSettled(Object.values(outcomes));
  for (const namespace of namespaces) await deleteNamespace(cluster, namespace).catch(() => undefined);
  if (dockerConfig) rmSync(dockerConfig, { recursive: true, force: true });
}, 60_000);

const testMs = 4 * 60_000;
const changed = (d: Diagnosis) => d.changes.map((c) => `${c.field}: ${c.before} -> ${c.after}`);

describe('diagnose on the real node', () => {
  it(
    'an image digest that is not in the registry: not found, with the reference',
    async () => {
      const { diagnosis: d, pod } = await (outcomes.notFound as Promise<Outcome>);
      expect(d.summary).toContain(
        `Deployment ${name} revision 2 failed: pod ${pod} cannot pull image ${images.missing}`,
      );
      expect(d.summary).toMatch(/the registry has no such tag or digest \(.*not found\)/);
      expect(d.summary).toContain(`${images.missing}: not found`);
      expect(d.summary).toContain('push the image or fix its reference in the manifests');
      expect(d.summary).toMatch(/revision 1 is still serving \(1 of 1 pods ready\)\.$/);
      expect(d.previousRevision).toBe(1);
      expect(changed(d)).toContain(`container app image: ${images.rev1} -> ${images.missing}`);
    },
    testMs,
  );

  it(
    'wrong registry credentials: refused (401 Unauthorized), naming the pull secret',
    async () => {
      const { diagnosis: d, pod } = await (outcomes.credentials as Promise<Outcome>);
      expect(d.summary).toContain(
        `Deployment ${name} revision 2 failed: pod ${pod} cannot pull image ${images.rev2}`,
      );
      expect(d.summary).toMatch(/the registry refused the node's pull \([^)]*401 Unauthorized\)/);
      expect(d.summary).toContain(
        `the pod's imagePullSecret wrong-credentials holds wrong credentials or ones without pull access: fix the username and password for ${registry} in that Secret`,
      );
      expect(d.summary).toMatch(/revision 1 is still serving \(1 of 1 pods ready\)\.$/);
      expect(changed(d)).toEqual(
        expect.arrayContaining([
          `container app image: ${images.rev1} -> ${images.rev2}`,
          `pod spec.imagePullSecrets: [{"name":"${pullSecretName}"}] -> [{"name":"wrong-credentials"}]`,
        ]),
      );
    },
    testMs,
  );

  it(
    'a container that exits: exit code 3 and the line it printed',
    async () => {
      const { diagnosis: d, pod } = await (outcomes.exits as Promise<Outcome>);
      expect(d.summary).toContain(
        `Deployment ${name} revision 2 failed: container app in pod ${pod} keeps crashing`,
      );
      expect(d.summary).toMatch(/\((Error|CrashLoopBackOff), exit code 3, \d+ restarts?\)/);
      expect(d.summary).toContain('its log ends with "boom: missing DATABASE_URL"');
      expect(d.summary).toMatch(/revision 1 is still serving \(1 of 1 pods ready\)\.$/);
      expect(changed(d)).toContain(
        `container app command: (none) -> ${JSON.stringify(['node', '-e', "console.error('boom: missing DATABASE_URL'); process.exit(3)"])}`,
      );
    },
    testMs,
  );

  it(
    "a pull request's crashing pod in a public repository: exit code and reason, its log withheld",
    async () => {
      const { namespace, pod } = await (outcomes.exits as Promise<Outcome>);
      const withheld = `withheld: a pull request's pod in a public repository (kubectl logs -n ${namespace} <pod> reads it)`;
      const d = await diagnose(cluster, namespace, name, { withholdLogs: withheld });
      expect(d.summary).toContain(`container app in pod ${pod} keeps crashing`);
      expect(d.summary).toMatch(/exit code 3/);
      expect(d.summary).toContain(`read its log (${withheld})`);
      // what the pod printed is nowhere (the command in the template diff is the manifests')
      const containers = d.pods.flatMap((p) => p.containers);
      expect(containers.length).toBeGreaterThan(0);
      expect(containers.map((c) => c.log)).toEqual(containers.map(() => undefined));
      expect(d.summary).not.toContain('boom');
    },
    testMs,
  );

  it(
    'a container over its memory limit: OOMKilled, with the 64Mi limit',
    async () => {
      const { diagnosis: d, pod } = await (outcomes.oom as Promise<Outcome>);
      expect(d.summary).toContain(
        `Deployment ${name} revision 2 failed: container app in pod ${pod} was killed for using more than its memory limit of 64Mi (OOMKilled, exit code 137 (SIGKILL),`,
      );
      expect(d.summary).toContain('raise resources.limits.memory or lower its use');
      expect(d.summary).toMatch(/revision 1 is still serving \(1 of 1 pods ready\)\.$/);
      expect(changed(d)).toEqual(
        expect.arrayContaining([
          'container app resources.limits.memory: (none) -> 64Mi',
          expect.stringMatching(/^container app command: \(none\) -> \["node","-e",/),
        ]),
      );
    },
    testMs,
  );

  it(
    'a readiness probe that never passes: its path and the 404',
    async () => {
      const { diagnosis: d, pod } = await (outcomes.neverReady as Promise<Outcome>);
      expect(d.summary).toContain(
        `Deployment ${name} revision 2 failed: container app in pod ${pod} runs but never becomes ready; its readiness probe (HTTP GET /no-such-path on port 8000 every 1s) failed`,
      );
      expect(d.summary).toContain('(HTTP probe failed with statuscode: 404)');
      expect(d.summary).toMatch(/revision 1 is still serving \(1 of 1 pods ready\)\.$/);
      expect(changed(d)).toContain(
        'container app readinessProbe: HTTP GET /readyz on port 8000 every 1s -> HTTP GET /no-such-path on port 8000 every 1s',
      );
    },
    testMs,
  );

  it(
    'an image built for arm64 on the amd64 node: exec format error, build with platforms linux/amd64',
    async () => {
      const { diagnosis: d, pod } = await (outcomes.architecture as Promise<Outcome>);
      expect(d.summary).toContain(
        `Deployment ${name} revision 2 failed: container app in pod ${pod} cannot run its program: exec format error`,
      );
      expect(d.summary).toContain(`node ${node.name} (linux/amd64)`);
      expect(d.summary).toContain("build with platforms linux/amd64 (input 'platforms')");
      expect(d.summary).toMatch(/revision 1 is still serving \(1 of 1 pods ready\)\.$/);
      expect(d.pods[0]?.containers[0]?.log?.join('\n')).toMatch(/exec \/hello: exec format error/);
      expect(changed(d)).toContain(`container app image: ${images.rev1} -> ${images.arm64}`);
    },
    testMs,
  );
});
