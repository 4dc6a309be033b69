import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../../src/kube/client/client.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { pushNodeScriptImage } from '../helpers/images.js';
import {
  pullSecretName,
  type RealNode,
  realNode,
  realNodeReport,
  withPullSecret,
} from '../helpers/real-node.js';
import { stackUp } from '../helpers/stack.js';

// The local target's front door, tools/edge (scripts/lib/stack-edge.sh), as its users meet it: Ingresses of
// the class AKS's application routing serves, and Gateway API (the conformance suite, scripts/edge-conformance,
// checks the rest), with requests through it to a real pod; and the one thing it must never do: dial an
// address outside the real node's pod network (a kwok pod's). The Gateway API's own behaviour is the
// conformance suite's (sigs.k8s.io/gateway-api/conformance v1.6.3).

jest.setTimeout(240_000);

let cluster: Cluster;
let node: RealNode;
let namespace: string;
let front: { address: string; port: number };

// answers who it is and what it was asked
const serverScript = `require('http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end(JSON.stringify({ pod: process.env.HOSTNAME, host: q.headers.host, path: q.url })); }).listen(8080, '0.0.0.0')`;

function GET(
  address: string,
  port: number,
  host: string,
  path = '/',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port, path, headers: { host }, timeout: 10_000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${address}:${port} in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function apply(path: string, body: object): Promise<void> {
  await cluster.request('POST', path, { body });
}

const service = (name: string, app: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

const ingressOf = (name: string, host: string, backend: string, pathType = 'Prefix', path = '/') => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace },
  spec: {
    ingressClassName: 'webapprouting.kubernetes.azure.com',
    rules: [
      {
        host,
        http: {
          paths: [{ path, pathType, backend: { service: { name: backend, port: { name: 'http' } } } }],
        },
      },
    ],
  },
});

beforeAll(async () => {
  const env = await stackUp();
  Object.assign(process.env, env);
  node = realNode();
  const [address, port] = (env.EDGE_HTTP ?? '').split(':');
  if (!address || !port)
    throw new Error('scripts/local-stack env printed no EDGE_HTTP: the stack runs no edge');
  front = { address, port: Number(port) };
  cluster = testCluster(readFileSync(env.KUBECONFIG as string, 'utf8'));
  const image = await pushNodeScriptImage('edge-test', serverScript);
  namespace = namespaceName('edge');
  await cluster.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  await withPullSecret(namespace);
  // a pod on the real node, and one the scheduler puts on a kwok node (it runs nothing there)
  const container = {
    name: 'web',
    image,
    ports: [{ containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
  };
  await apply(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'real', namespace, labels: { app: 'real' } },
    spec: {
      nodeSelector: { [node.label]: 'true' },
      tolerations: [{ key: node.label, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
      imagePullSecrets: [{ name: pullSecretName }],
      terminationGracePeriodSeconds: 1,
      containers: [container],
    },
  });
  await apply(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'fake', namespace, labels: { app: 'fake' } },
    spec: { containers: [{ ...container, readinessProbe: undefined }] },
  });
  for (const s of [service('real', 'real'), service('fake', 'fake')])
    await apply(`/api/v1/namespaces/${namespace}/services`, s);
  await eventually(
    'the real pod Ready',
    async () => {
      const p = await get<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods/real`);
      return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    },
    120_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await realNodeReport(cluster, namespace)}`);
  });
}, 10 * 60_000);

afterAll(async () => {
  if (cluster && namespace) await deleteNamespace(cluster, namespace).catch(() => undefined);
});

describe('the front door (tools/edge)', () => {
  it('serves an Ingress of the AKS class: its address in the status, the host and path to the real pod', async () => {
    const host = `${namespace}.localhost`;
    await apply(
      `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
      ingressOf('web', host, 'real'),
    );
    const address = await eventually('the Ingress address', async () => {
      const i = await get<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>(
        cluster,
        `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/web`,
      );
      return i?.status?.loadBalancer?.ingress?.[0]?.ip;
    });
    expect(address).toBe(front.address);
    const answer = await eventually('an answer through the Ingress', async () => {
      const a = await GET(front.address, front.port, host, '/hello?x=1');
      return a.status === 200 ? a : undefined;
    });
    expect(JSON.parse(answer.body)).toEqual({ pod: 'real', host, path: '/hello?x=1' });
    // another host is nobody's
    expect((await GET(front.address, front.port, `other-${host}`)).status).toBe(404);
  });

  it('matches an Exact path exactly', async () => {
    const host = `exact-${namespace}.localhost`;
    await apply(
      `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
      ingressOf('exact', host, 'real', 'Exact', '/only'),
    );
    await eventually(
      'the Exact path served',
      async () => (await GET(front.address, front.port, host, '/only')).status === 200,
    );
    expect((await GET(front.address, front.port, host, '/only/more')).status).toBe(404);
  });

  it('never dials a kwok pod: the rule answers 502 saying why', async () => {
    const host = `fake-${namespace}.localhost`;
    await apply(
      `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
      ingressOf('fake', host, 'fake'),
    );
    // the kwok pod turns Ready by kwok's stages, and its EndpointSlice follows
    const answer = await eventually(
      'a 502 for the kwok pod',
      async () => {
        const a = await GET(front.address, front.port, host);
        return a.status === 502 ? a : undefined;
      },
      60_000,
    );
    expect(answer.body).toMatch(/Ingress .*\/fake: .* is not in the real node's pod network/);
  });

  it('serves a Gateway of class approuting-istio at an address of its own, and its HTTPRoute', async () => {
    const gateways = `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}`;
    await apply(`${gateways}/gateways`, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'shared', namespace },
      spec: {
        gatewayClassName: 'approuting-istio',
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
      },
    });
    const host = `route-${namespace}.localhost`;
    await apply(`${gateways}/httproutes`, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace },
      spec: {
        parentRefs: [{ name: 'shared' }],
        hostnames: [host],
        rules: [{ backendRefs: [{ name: 'real', port: 80 }] }],
      },
    });
    const gateway = await eventually('the Gateway Programmed with an address', async () => {
      const g = await get<{
        status?: { addresses?: { value: string }[]; conditions?: { type: string; status: string }[] };
      }>(cluster, `${gateways}/gateways/shared`);
      const programmed = g?.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True');
      return programmed ? g?.status?.addresses?.[0]?.value : undefined;
    });
    expect(gateway).toMatch(/^127\.0\.0\.\d+$/);
    expect(gateway).not.toBe('127.0.0.1');
    const answer = await eventually('an answer through the Gateway', async () => {
      const a = await GET(gateway, 80, host);
      return a.status === 200 ? a : undefined;
    });
    expect(JSON.parse(answer.body)).toMatchObject({ pod: 'real', host });
    const route = await get<{ status?: { parents?: { conditions?: { type: string; status: string }[] }[] } }>(
      cluster,
      `${gateways}/httproutes/web`,
    );
    expect(route?.status?.parents?.[0]?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
      ]),
    );
  });
});
