// The local target's real node (scripts/local-stack: a kubelet of the control plane's version, Debian's
// containerd with runc and a CNI bridge) against the real parts: the archetype image is pulled from the
// authenticated registry by digest with an imagePullSecret, started, probed through its real /readyz and
// replaced one pod at a time while requests through the API server's service proxy keep being answered;
// real failures carry the reasons the kubelet reports. Brings the stack up (or finds it up) itself.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { Exec, KubeConfig, type V1Deployment, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { applySet } from '../../src/kube/apply/apply.js';
import { type Cluster, KubeApiError } from '../../src/kube/client/client.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import {
  buildArchetypeImage,
  inCidr,
  pullSecretName,
  pushArm64Image,
  type RealNode,
  realNode,
  realNodeManifests,
  requestLoop,
  serviceProxyPath,
  withPullSecret,
} from '../helpers/real-node.js';
import { stackUp } from '../helpers/stack.js';

// the failures below wait on the kubelet's own back-off (up to 120 s each): the tests may take that long
jest.setTimeout(180_000);

const run = promisify(execFile);
const suffix = randomBytes(3).toString('hex');
const fieldManager = 'real-node-test';

let cluster: Cluster;
let node: RealNode;
let childEnv: NodeJS.ProcessEnv;
let dockerConfig: string;
let registry: string;
const namespaces: string[] = [];
const images: Record<string, string> = {};

async function docker(args: string[], input?: string): Promise<string> {
  const child = run('docker', args, { env: childEnv, maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    return (await child).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** The overlaid k8s/ manifests as objects, the archetype container's image set, in namespace. */
async function archetype(namespace: string, image: string): Promise<Record<string, unknown>[]> {
  const dir = await realNodeManifests();
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
      .filter((o): o is Record<string, unknown> => o !== null)
      .map((o) => {
        const obj = o as { metadata: Record<string, unknown>; kind: string };
        obj.metadata = { ...obj.metadata, namespace };
        if (obj.kind === 'Deployment')
          for (const c of (obj as unknown as V1Deployment).spec?.template.spec?.containers ?? [])
            if (c.image === 'archetype') c.image = image;
        return obj;
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function apply(namespace: string, objects: Record<string, unknown>[]): Promise<void> {
  await applySet(cluster, objects as never[], { fieldManager, force: true, namespace });
}

async function freshNamespace(prefix: string): Promise<string> {
  const namespace = namespaceName(prefix);
  namespaces.push(namespace);
  return withPullSecret(namespace);
}

async function pods(namespace: string, selector = 'app.kubernetes.io/name=archetype'): Promise<V1Pod[]> {
  const list = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: selector },
  });
  return list.items;
}

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const ready = (list: V1Pod[]) => list.filter((p) => !p.metadata?.deletionTimestamp && isReady(p));

async function deploymentDone(namespace: string, revision: string): Promise<V1Deployment | undefined> {
  const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
  const s = d?.status;
  const done =
    d?.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision &&
    (s?.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 1) &&
    s?.updatedReplicas === 2 &&
    s?.readyReplicas === 2 &&
    s?.availableReplicas === 2 &&
    s?.replicas === 2;
  return done ? d : undefined;
}

/** "Successfully pulled image ... in 612ms (612ms including waiting)": the kubelet's pull times, in ms. */
async function pullTimes(namespace: string): Promise<number[]> {
  const events = await cluster.request<{ items: { reason?: string; message?: string }[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/events`,
  );
  return events.items
    .filter((e) => e.reason === 'Pulled')
    .map((e) => / in ([\d.]+)(ms|s) /.exec(e.message ?? ''))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]) * (m[2] === 's' ? 1000 : 1));
}

beforeAll(async () => {
  const env = await stackUp();
  Object.assign(process.env, env);
  node = realNode();
  registry = env.REGISTRY as string;
  cluster = testCluster(readFileSync(env.KUBECONFIG as string, 'utf8'));
  dockerConfig = mkdtempSync(join(tmpdir(), 'real-node-docker-'));
  childEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  await docker(
    ['login', registry, '--username', env.REGISTRY_USERNAME as string, '--password-stdin'],
    env.REGISTRY_PASSWORD,
  );
  images.rev1 = await buildArchetypeImage(registry, `real-node-${suffix}-1`, childEnv);
  images.rev2 = await buildArchetypeImage(registry, `real-node-${suffix}-2`, childEnv);
}, 30 * 60_000);

afterAll(async () => {
  for (const namespace of namespaces) await deleteNamespace(cluster, namespace).catch(() => undefined);
  if (dockerConfig) rmSync(dockerConfig, { recursive: true, force: true });
});

describe('the real node', () => {
  it('is Ready beside the kwok nodes: kubelet of the control plane version, containerd, its label and taint', async () => {
    const version = await cluster.request<{ gitVersion: string }>('GET', '/version');
    const nodes = (await cluster.request<{ items: V1Node[] }>('GET', '/api/v1/nodes')).items;
    const real = nodes.find((n) => n.metadata?.name === node.name);
    expect(real).toBeDefined();
    expect(real?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(real?.status?.nodeInfo?.kubeletVersion).toBe(version.gitVersion);
    expect(real?.status?.nodeInfo?.kubeletVersion).toMatch(/^v1\.34\.\d+$/);
    expect(real?.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
    expect(real?.status?.nodeInfo?.architecture).toBe('amd64');
    expect(real?.metadata?.labels?.[node.label]).toBe('true');
    expect(real?.spec?.taints).toContainEqual({ key: node.label, value: 'true', effect: 'NoSchedule' });
    expect(real?.spec?.podCIDR).toBe(node.podCidr);
    // the kwok nodes are still there, Ready and untainted
    const kwok = nodes.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake');
    expect(kwok.filter((n) => n.metadata?.name?.startsWith('kwok-node-')).length).toBeGreaterThanOrEqual(2);
  });

  it('attracts no pod that does not ask for it', async () => {
    const namespace = await freshNamespace('rn-kwok');
    const objects = await archetype(namespace, images.rev1 as string);
    for (const o of objects as V1Deployment[]) {
      const spec = o.kind === 'Deployment' ? o.spec?.template.spec : undefined;
      if (spec) {
        delete spec.nodeSelector;
        delete spec.tolerations;
      }
    }
    await apply(namespace, objects);
    const placed = await eventually('2 scheduled pods', async () => {
      const list = await pods(namespace);
      return list.length === 2 && list.every((p) => p.spec?.nodeName) ? list : undefined;
    });
    for (const p of placed) expect(p.spec?.nodeName).toMatch(/^kwok-node-/);
  });

  it(
    'runs the archetype for real: pulled by digest with the pull secret, Ready through /readyz, replaced one pod at a time with zero failed requests',
    async () => {
      const namespace = await freshNamespace('rn-rollout');
      const applied = Date.now();
      await apply(namespace, await archetype(namespace, images.rev1 as string));
      await eventually('revision 1 with 2 real Ready pods', () => deploymentDone(namespace, '1'), 120_000);
      const readyMs = Date.now() - applied;
      const first = ready(await pods(namespace));
      expect(first).toHaveLength(2);
      for (const p of first) {
        expect(p.spec?.nodeName).toBe(node.name);
        expect(p.spec?.imagePullSecrets).toEqual([{ name: pullSecretName }]);
        expect(inCidr(p.status?.podIP ?? '', node.podCidr)).toBe(true);
        const c = p.status?.containerStatuses?.[0];
        expect(c?.ready).toBe(true);
        expect(c?.started).toBe(true);
        expect(c?.containerID).toMatch(/^containerd:\/\//);
        expect(c?.imageID).toBe(images.rev1);
      }
      const service = serviceProxyPath(namespace, 'archetype', 80);
      const answer = JSON.parse(await cluster.request<string>('GET', service, { text: true })) as {
        revision: string;
      };
      expect(answer.revision).toBe(`real-node-${suffix}-1`);

      // The image change, with requests through the service proxy all along. Pods are sampled meanwhile:
      // never fewer than 2 Ready (maxUnavailable 0), never more than 3 not terminating (maxSurge 1).
      let rolledOut = false;
      let minReady = Number.POSITIVE_INFINITY;
      let maxLive = 0;
      const sampler = (async () => {
        const deadline = Date.now() + 240_000;
        while (!rolledOut && Date.now() < deadline) {
          const list = await pods(namespace);
          minReady = Math.min(minReady, ready(list).length);
          maxLive = Math.max(maxLive, list.filter((p) => !p.metadata?.deletionTimestamp).length);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const loop = requestLoop(cluster, service, () => rolledOut);
      const changed = Date.now();
      await apply(namespace, await archetype(namespace, images.rev2 as string));
      try {
        await eventually('revision 2 rolled out', () => deploymentDone(namespace, '2'), 180_000);
        // and the old pods gone: their drain (SHUTDOWN_DELAY_MS) is within the loop too
        await eventually(
          'the old pods to be gone',
          async () => ((await pods(namespace)).length === 2 ? true : undefined),
          60_000,
        );
      } finally {
        rolledOut = true;
      }
      const rolloutMs = Date.now() - changed;
      const requests = await loop;
      await sampler;
      const second = ready(await pods(namespace));
      console.log(
        `real node: apply -> 2 Ready pods ${readyMs} ms; image change -> rolled out, old pods gone ${rolloutMs} ms; ` +
          `${requests.sent} requests through the service proxy, ${requests.failed} failed, by revision ${JSON.stringify(requests.revisions)}; ` +
          `pulls ${JSON.stringify(await pullTimes(namespace))} ms`,
      );
      expect(requests.failures).toEqual([]);
      expect(requests.failed).toBe(0);
      expect(requests.sent).toBeGreaterThan(20);
      expect(requests.revisions[`real-node-${suffix}-2`]).toBeGreaterThan(0);
      expect(minReady).toBeGreaterThanOrEqual(2);
      expect(maxLive).toBeLessThanOrEqual(3);
      // one by one: the second new pod was created only after the first one was Ready
      const [a, b] = second.sort(
        (x, y) =>
          new Date(x.metadata?.creationTimestamp ?? 0).getTime() -
          new Date(y.metadata?.creationTimestamp ?? 0).getTime(),
      );
      const aReady = a?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
      expect(new Date(b?.metadata?.creationTimestamp ?? 0).getTime()).toBeGreaterThanOrEqual(
        new Date(aReady ?? Date.now()).getTime() - 1000,
      );
      for (const p of second) expect(p.status?.containerStatuses?.[0]?.imageID).toBe(images.rev2);
      const after = JSON.parse(await cluster.request<string>('GET', service, { text: true })) as {
        revision: string;
      };
      expect(after.revision).toBe(`real-node-${suffix}-2`);

      // Logs and exec go from the API server to the kubelet on 127.0.0.1; the pod has no route off its bridge.
      const pod = second[0]?.metadata?.name as string;
      const log = await cluster.request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${pod}/log`, {
        text: true,
      });
      expect(log).toContain('"userAgent":"kube-probe/1.34"');
      const routes = await exec(namespace, pod, [
        'node',
        '-e',
        'process.stdout.write(require("fs").readFileSync("/proc/net/route", "utf8"))',
      ]);
      const table = routes
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/));
      // one route, to the pod's own /24 on eth0, no gateway (and so no default route)
      expect(table.map((r) => [r[0], r[2]])).toEqual([['eth0', '00000000']]);
      expect(table.some((r) => r[1] === '00000000')).toBe(false);
    },
    20 * 60_000,
  );

  it('kwok nodes and their pods stay unreachable: the API server is refused at once', async () => {
    const namespace = await freshNamespace('rn-refused');
    const objects = (await archetype(namespace, images.rev1 as string)).filter((o) => o.kind !== 'Ingress');
    for (const o of objects as V1Deployment[]) {
      const spec = o.kind === 'Deployment' ? o.spec?.template.spec : undefined;
      if (spec) {
        delete spec.nodeSelector;
        delete spec.tolerations;
      }
    }
    await apply(namespace, objects);
    const list = await eventually('2 Running kwok pods', async () => {
      const l = await pods(namespace);
      return ready(l).length === 2 ? l : undefined;
    });
    const refusal = async (path: string) => {
      const started = Date.now();
      const error = await cluster.request('GET', path, { text: true, outageMs: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      return { error, ms: Date.now() - started };
    };
    const logs = await refusal(`/api/v1/namespaces/${namespace}/pods/${list[0]?.metadata?.name}/log`);
    expect(logs.error).toBeInstanceOf(KubeApiError);
    expect(String(logs.error)).toMatch(
      /dialing kwok-node-\d+:10250, code 403: 403 .*is not the real node's kubelet/,
    );
    const proxied = await refusal(serviceProxyPath(namespace, 'archetype', 80));
    expect(proxied.error).toBeInstanceOf(KubeApiError);
    expect(String(proxied.error)).toMatch(
      /dialing 10\.244\.\d+\.\d+:8000, code 403: 403 .*is not the real node's kubelet \(localhost:\d+\) nor in its pod network/,
    );
    expect(Math.max(logs.ms, proxied.ms)).toBeLessThan(5000);
  });
});

async function exec(namespace: string, pod: string, command: string[]): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG as string);
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec ${command.join(' ')} timed out`)), 30_000);
    new Exec(kc)
      .exec(
        namespace,
        pod,
        'archetype',
        command,
        sink((s) => {
          out += s;
        }),
        sink((s) => {
          err += s;
        }),
        null,
        false,
        (status) => {
          clearTimeout(timer);
          if (status.status === 'Success') resolve();
          else reject(new Error(`exec failed: ${JSON.stringify(status)} ${err}`));
        },
      )
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(e);
      });
  });
  return out;
}

describe('real failures, with the reason the kubelet reports', () => {
  let namespace: string;
  let arm64: string;

  /** A pod on the real node (pull secret as given), one container named c. */
  function podOn(name: string, image: string, extra: Record<string, unknown> = {}, secret = pullSecretName) {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: {
        nodeSelector: { [node.label]: 'true' },
        tolerations: [{ key: node.label, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
        imagePullSecrets: [{ name: secret }],
        terminationGracePeriodSeconds: 2,
        containers: [{ name: 'c', image, ...extra }],
      },
    };
  }

  beforeAll(async () => {
    namespace = await freshNamespace('rn-fail');
    arm64 = `${registry}/archetype-arm64@${await pushArm64Image(`${registry}/archetype-arm64:${suffix}`, childEnv)}`;
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
    const good = images.rev1 as string;
    const [repoPart] = good.split('@');
    const objects = [
      podOn('missing-digest', `${repoPart}@sha256:${'1'.repeat(64)}`),
      // Always: the node may hold the image already, and only a pull asks the registry for credentials
      podOn('wrong-credentials', good, { imagePullPolicy: 'Always' }, 'wrong-credentials'),
      podOn('exits', good, { command: ['node', '-e', 'process.exit(3)'] }),
      podOn('over-memory', good, {
        command: ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'],
        resources: { limits: { memory: '64Mi' } },
      }),
      podOn('never-ready', good, {
        env: [{ name: 'PORT', value: '8000' }],
        readinessProbe: { httpGet: { path: '/no-such-path', port: 8000 }, periodSeconds: 1 },
      }),
      podOn('wrong-architecture', arm64),
    ];
    for (const o of objects)
      await cluster.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: o });
  }, 5 * 60_000);

  async function container(name: string) {
    const p = await get<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods/${name}`);
    return p?.status?.containerStatuses?.[0];
  }

  it('an image digest that is not in the registry: ErrImagePull / ImagePullBackOff, not found', async () => {
    const waiting = await eventually(
      'a pull failure',
      async () => {
        const w = (await container('missing-digest'))?.state?.waiting;
        return w && /ErrImagePull|ImagePullBackOff/.test(w.reason ?? '') ? w : undefined;
      },
      90_000,
    );
    expect(waiting.message).toMatch(/sha256:1{64}.*not found/);
  });

  it('wrong registry credentials: ErrImagePull / ImagePullBackOff, 401 Unauthorized', async () => {
    const waiting = await eventually(
      'a pull failure',
      async () => {
        const w = (await container('wrong-credentials'))?.state?.waiting;
        return w && /ErrImagePull|ImagePullBackOff/.test(w.reason ?? '') ? w : undefined;
      },
      90_000,
    );
    expect(waiting.message).toMatch(/401 Unauthorized/);
  });

  it('a container that exits: CrashLoopBackOff with its exit code', async () => {
    const status = await eventually(
      'CrashLoopBackOff',
      async () => {
        const c = await container('exits');
        return c?.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
      },
      120_000,
    );
    expect(status.lastState?.terminated?.exitCode).toBe(3);
    expect(status.restartCount).toBeGreaterThanOrEqual(1);
  });

  it('a container over its memory limit: OOMKilled', async () => {
    const terminated = await eventually(
      'OOMKilled',
      async () => {
        const c = await container('over-memory');
        const t = c?.state?.terminated ?? c?.lastState?.terminated;
        return t?.reason === 'OOMKilled' ? t : undefined;
      },
      120_000,
    );
    expect(terminated.exitCode).toBe(137);
  });

  it('a readiness probe that never passes: running, never Ready, the probe failure in the events', async () => {
    const event = await eventually(
      'an Unhealthy event',
      async () => {
        const events = await cluster.request<{ items: { reason?: string; message?: string }[] }>(
          'GET',
          `/api/v1/namespaces/${namespace}/events`,
          { query: { fieldSelector: 'involvedObject.name=never-ready' } },
        );
        // (the first ones may say "connection refused": the probe starts before the server listens)
        return events.items.find((e) => e.reason === 'Unhealthy' && /statuscode: 404/.test(e.message ?? ''));
      },
      90_000,
    );
    expect(event.message).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 404/);
    const c = await container('never-ready');
    expect(c?.state?.running).toBeDefined();
    expect(c?.ready).toBe(false);
  });

  it('an image built for the wrong architecture: exec format error', async () => {
    // CrashLoopBackOff: the container that failed is the "previous" one, and its log is what runc said
    const status = await eventually(
      'the arm64 container in CrashLoopBackOff',
      async () => {
        const c = await container('wrong-architecture');
        return c?.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
      },
      120_000,
    );
    expect(status.lastState?.terminated?.exitCode).not.toBe(0);
    // A restart between the status and the read can leave the kubelet pointing at a log file it has
    // already rotated away ("unable to retrieve container logs"): read again, bounded.
    const log = await eventually(
      "runc's error in the previous container's log",
      async () => {
        const text = await cluster.request<string>(
          'GET',
          `/api/v1/namespaces/${namespace}/pods/wrong-architecture/log`,
          { text: true, query: { previous: true } },
        );
        return /exec format error/.test(text) ? text : undefined;
      },
      60_000,
    );
    expect(log).toMatch(/exec \/hello: exec format error/);
  });
});
