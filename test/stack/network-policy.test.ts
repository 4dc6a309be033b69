import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../../src/kube/client/client.js';
import { podSecurityLabels, previewPolicy } from '../../src/kube/preview/guard.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { pushNodeScriptImage } from '../helpers/images.js';
import {
  inCidr,
  pullSecretName,
  type RealNode,
  realNode,
  realNodeReport,
  withPullSecret,
} from '../helpers/real-node.js';
import { stackUp } from '../helpers/stack.js';

jest.setTimeout(240_000);

const port = 8080;
// A client first waits startDelayMs: kube-router writes a pod's chain only once the pod has an IP (on the
// informer's update), and until then its traffic passes as if no policy selected it. Then it tries this many
// times, 1 s apart, each connect bounded by 3 s.
const startDelayMs = 3000;
const attempts = 5;

let cluster: Cluster;
let node: RealNode;
let image: string;
let production: string;
let preview: string;
let productionIp: string;
let peerIp: string;
const policy = () =>
  previewPolicy({
    namespace: preview,
    pr: 7,
    labels: { 'app.kubernetes.io/managed-by': 'network-policy-test' },
    ingressNamespace: 'app-routing-system',
  }).object as { metadata: { name: string } };

// A TCP server answering one line, and a client that connects to TARGET:PORT up to ATTEMPTS times and prints
// what each try gave (a JSON line); it exits 0 once a try got the server's line, 1 when none did.
// (the kubelet's TCP probe resets its connections: a socket error is no reason to stop serving)
const serverScript = `require('net').createServer((s) => { s.on('error', () => {}); s.end(process.env.GREETING + '\\n'); }).listen(Number(process.env.PORT), '0.0.0.0')`;
const clientScript = `
const net = require('net');
const target = process.env.TARGET, port = Number(process.env.PORT), attempts = Number(process.env.ATTEMPTS);
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const once = () => new Promise((resolve) => {
  const started = Date.now();
  let reply = '', done = false;
  const finish = (r) => { if (!done) { done = true; s.destroy(); resolve({ ...r, ms: Date.now() - started }); } };
  const s = net.connect({ host: target, port, timeout: 3000 });
  s.on('data', (d) => { reply += d; });
  s.on('end', () => finish({ ok: reply.length > 0, reply: reply.trim(), code: reply ? undefined : 'EMPTY' }));
  s.on('timeout', () => finish({ ok: false, code: 'ETIMEDOUT' }));
  s.on('error', (e) => finish({ ok: false, code: e.code || e.message }));
});
(async () => {
  await delay(Number(process.env.START_DELAY_MS));
  const tries = [];
  for (let i = 0; i < attempts; i++) {
    const r = await once();
    tries.push({ at: new Date().toISOString(), ...r });
    if (r.ok) break;
    await delay(1000);
  }
  console.log(JSON.stringify({ target: target + ':' + port, tries }));
  process.exit(tries.some((t) => t.ok) ? 0 : 1);
})();
`;

/** A pod on the real node that meets the restricted Pod Security Standard, running a Node script. */
function podOn(
  namespace: string,
  name: string,
  script: string,
  env: Record<string, string>,
  extra: Record<string, unknown> = {},
  podExtra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name } },
    spec: {
      nodeSelector: { [node.label]: 'true' },
      tolerations: [{ key: node.label, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
      imagePullSecrets: [{ name: pullSecretName }],
      terminationGracePeriodSeconds: 1,
      ...podExtra,
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'c',
          image,
          command: ['node', '-e', script],
          env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '96Mi' } },
          ...extra,
        },
      ],
    },
  };
}

async function create(object: { metadata: { namespace: string } }): Promise<void> {
  await cluster.request('POST', `/api/v1/namespaces/${object.metadata.namespace}/pods`, { body: object });
}

/** A server pod, Ready through its TCP readiness probe (the kubelet probes from the node); its pod IP. */
async function server(namespace: string, name: string): Promise<string> {
  await create(
    podOn(
      namespace,
      name,
      serverScript,
      { PORT: String(port), GREETING: `hello from ${namespace}/${name}` },
      {
        ports: [{ containerPort: port, protocol: 'TCP' }],
        readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
      },
    ),
  );
  const pod = await eventually(
    `${namespace}/${name} Ready on the real node`,
    async () => {
      const p = await get<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods/${name}`);
      return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    },
    120_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await realNodeReport(cluster, namespace)}`);
  });
  const ip = pod.status?.podIP ?? '';
  expect(pod.spec?.nodeName).toBe(node.name);
  // only ever a pod of the real node's own network: nothing leaves the bridge
  expect(inCidr(ip, node.podCidr)).toBe(true);
  return ip;
}

/** The server still up and Ready, never restarted: a refused connection was not a server that was down. */
async function stillServing(namespace: string, name: string): Promise<void> {
  const p = await get<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods/${name}`);
  expect(p?.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
}

interface Outcome {
  exitCode: number | undefined;
  target: string;
  tries: { ok: boolean; reply?: string; code?: string; ms: number }[];
}

/** Runs a client pod in namespace against target (a pod IP of the real node) and reads what it printed. */
async function connect(namespace: string, name: string, target: string): Promise<Outcome> {
  if (!inCidr(target, node.podCidr))
    throw new Error(`refusing to dial ${target}: not in the real node's pod network ${node.podCidr}`);
  const env = {
    TARGET: target,
    PORT: String(port),
    ATTEMPTS: String(attempts),
    START_DELAY_MS: String(startDelayMs),
  };
  await create(podOn(namespace, name, clientScript, env, {}, { restartPolicy: 'Never' }));
  const pod = await eventually(
    `client ${namespace}/${name} to finish`,
    async () => {
      const p = await get<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods/${name}`);
      return p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed' ? p : undefined;
    },
    120_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await realNodeReport(cluster, namespace)}`);
  });
  const log = await cluster.request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${name}/log`, {
    text: true,
  });
  const line = log
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`client ${namespace}/${name} printed no result: ${log.slice(0, 500)}`);
  const printed = JSON.parse(line) as Omit<Outcome, 'exitCode'>;
  return { ...printed, exitCode: pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode };
}

beforeAll(async () => {
  const env = await stackUp();
  Object.assign(process.env, env);
  node = realNode();
  if (!env.REAL_NODE_NETWORK_POLICY)
    throw new Error(
      'REAL_NODE_NETWORK_POLICY is not set: the local stack enforces no NetworkPolicy. Run scripts/local-stack up without ARCHETYPE_NETWORK_POLICY=0',
    );
  cluster = testCluster(readFileSync(env.KUBECONFIG as string, 'utf8'));
  image = await pushNodeScriptImage('network-policy-test', 'setInterval(() => {}, 60_000)');

  production = namespaceName('np-production');
  preview = namespaceName('np-preview');
  // the preview namespace enforces the restricted Pod Security Standard, as every preview namespace does
  for (const [name, labels] of [
    [production, {}],
    [preview, { ...podSecurityLabels }],
  ] as const)
    await cluster.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
    });
  await withPullSecret(production);
  await withPullSecret(preview);
  productionIp = await server(production, 'web');
}, 10 * 60_000);

afterAll(async () => {
  if (!cluster) return;
  for (const namespace of [production, preview])
    if (namespace) await deleteNamespace(cluster, namespace).catch(() => undefined);
});

describe("the preview's default-deny NetworkPolicy on the real node", () => {
  it('refuses a preview pod a connection to production; its own pods still reach each other', async () => {
    const object = policy();
    await cluster.request('POST', `/apis/networking.k8s.io/v1/namespaces/${preview}/networkpolicies`, {
      body: object,
    });
    // a preview pod serving inside the preview: Ready, so the kubelet's probe from the node gets through
    peerIp = await server(preview, 'peer');

    const denied = await connect(preview, 'client-denied', productionIp);
    console.log(`preview -> production with the policy: ${JSON.stringify(denied)}`);
    expect(denied.exitCode).toBe(1);
    expect(denied.tries).toHaveLength(attempts);
    expect(denied.tries.filter((t) => t.ok)).toEqual([]);
    // refused by the policy's REJECT (or unanswered), never an answer
    for (const t of denied.tries) expect(t.code).toMatch(/^(ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT)$/);
    await stillServing(production, 'web');

    const inside = await connect(preview, 'client-peer', peerIp);
    console.log(`preview -> preview with the policy: ${JSON.stringify(inside)}`);
    expect(inside.exitCode).toBe(0);
    expect(inside.tries.at(-1)).toMatchObject({ ok: true, reply: `hello from ${preview}/peer` });
    await stillServing(preview, 'peer');
  });

  it('lets a new preview pod connect to production once a cluster admin deletes the policy', async () => {
    await cluster.request(
      'DELETE',
      `/apis/networking.k8s.io/v1/namespaces/${preview}/networkpolicies/${policy().metadata.name}`,
    );
    const allowed = await connect(preview, 'client-allowed', productionIp);
    console.log(`preview -> production without the policy: ${JSON.stringify(allowed)}`);
    expect(allowed.exitCode).toBe(0);
    expect(allowed.tries.at(-1)).toMatchObject({ ok: true, reply: `hello from ${production}/web` });
    await stillServing(production, 'web');
  });
});
