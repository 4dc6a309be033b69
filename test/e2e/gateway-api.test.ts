import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { sharedGateway } from '../helpers/gateway.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import {
  frontDoorGet,
  realNode,
  realNodeManifests,
  realNodeReport,
  requestLoop,
  withPullSecret,
} from '../helpers/real-node.js';
import { type ActionRun, expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// Gateway API end to end on the local target's real node, through dist/index.js as the production identity
// (rbac/production.yaml grants it HTTPRoutes in its namespace): the archetype reached through an HTTPRoute
// attached to a shared Gateway of class approuting-istio (tools/edge serves it, as AKS's application routing
// in Gateway API mode does), and the move from its Ingress to that route, as docs/gateway-api.md takes it:
// deploy both, then the route alone, with requests answered through the front door all along.

jest.setTimeout(900_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-gw');
const infra = namespaceName('e2e-gw-infra');
// one host for both, as a team moves it from the Ingress's address to the Gateway's (input host sets both)
const ingressHost = `${namespace}.localhost`;
const routeHost = ingressHost;
const sha = (c: string) => c.repeat(40);
const folders: string[] = [];
let deployer: ProductionIdentity;
let gatewayAddress = '';

const httpRoute = (host: string, sectionName = 'http', port = 80) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: archetype
  labels:
    app.kubernetes.io/name: archetype
spec:
  parentRefs:
    - name: shared
      namespace: ${infra}
      sectionName: ${sectionName}
  hostnames: [${host}]
  rules:
    - backendRefs:
        - name: archetype
          port: ${port}
`;

/** k8s/ on the real node, with the HTTPRoute and, when `ingress`, the Ingress too. */
async function manifests(ingress: boolean, sectionName = 'http', port = 80): Promise<string> {
  const dir = await realNodeManifests();
  folders.push(dir);
  // the manifests' own hostname: the action sets input host instead
  writeFileSync(join(dir, 'httproute.yaml'), httpRoute('archetype.example.com', sectionName, port));
  if (!ingress) unlinkSync(join(dir, 'ingress.yaml'));
  return dir;
}

const base = (dir: string) => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  namespace,
  host: ingressHost,
  manifests: dir,
  'rollout-timeout': '240s',
  'smoke-check': 'true',
});

/** GET / with Host `host` at the shared Gateway's own address (tools/edge gives each Gateway one). */
const gatewayGet = (host: string) => frontDoorGet(host, '/', `${gatewayAddress}:80`);

async function expectOk(run: ActionRun): Promise<void> {
  if (run.code !== 0) expectRunOk(run, await realNodeReport(cluster, namespace));
}

beforeAll(async () => {
  realNode();
  deployer = await productionIdentity(cluster, [namespace]);
  await withPullSecret(namespace);
  // the platform team's shared Gateway: routes only from namespaces it labels for it
  await cluster.request('PATCH', `/api/v1/namespaces/${namespace}`, {
    body: { metadata: { labels: { 'gateway-access': infra } } },
    contentType: 'application/merge-patch+json',
  });
  gatewayAddress = await sharedGateway(cluster, infra, [
    {
      name: 'http',
      port: 80,
      protocol: 'HTTP',
      allowedRoutes: {
        namespaces: { from: 'Selector', selector: { matchLabels: { 'gateway-access': infra } } },
      },
    },
  ]);
  // another Gateway, which admits routes from its own namespace only (allowedRoutes' default)
  await cluster.request('POST', `/apis/gateway.networking.k8s.io/v1/namespaces/${infra}/gateways`, {
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'closed', namespace: infra },
      spec: {
        gatewayClassName: 'approuting-istio',
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
      },
    },
  });
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
  await deleteNamespace(cluster, infra);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('Gateway API on the real node', () => {
  it('deploys the Ingress alone first: answered through it', async () => {
    const dir = await realNodeManifests();
    folders.push(dir);
    const run = await runAction(base(dir), { sha: sha('1') });
    await expectOk(run);
    expect(JSON.parse(await frontDoorGet(ingressHost)).revision).toBe(sha('1'));
  });

  it('deploys the HTTPRoute beside the Ingress: both answer the new commit, no request through the Ingress fails', async () => {
    let finished = 0;
    const viaIngress = requestLoop(
      cluster,
      () => frontDoorGet(ingressHost),
      () => finished > 0,
      {
        maxRequests: 5000,
        maxMs: 540_000,
        intervalMs: 50,
      },
    );
    const run = await runAction(base(await manifests(true)), { sha: sha('2') }).finally(() => {
      finished = Date.now();
    });
    const requests = await viaIngress;
    await expectOk(run);
    // the action's smoke check went through both front doors
    expect(run.log).toContain(`front door: GET http://${ingressHost}/ through Ingress/archetype`);
    expect(run.log).toContain(
      `front door: GET http://${routeHost}/ through HTTPRoute/archetype (Gateway ${infra}/shared) at ${gatewayAddress}:80 answered revision ${sha('2')}`,
    );
    expect(requests.failures).toEqual([]);
    expect(requests.revisions[sha('2')]).toBeGreaterThan(0);
    expect(JSON.parse(await gatewayGet(routeHost)).revision).toBe(sha('2'));
    const route = await get<{ status?: { parents?: { conditions?: { type: string; status: string }[] }[] } }>(
      cluster,
      `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/archetype`,
    );
    expect(route?.status?.parents?.[0]?.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Accepted', status: 'True' })]),
    );
  });

  it('then the route alone: the Ingress is pruned, no request through the Gateway fails', async () => {
    let finished = 0;
    const viaGateway = requestLoop(
      cluster,
      () => gatewayGet(routeHost),
      () => finished > 0,
      {
        maxRequests: 5000,
        maxMs: 540_000,
        intervalMs: 50,
      },
    );
    const run = await runAction(base(await manifests(false)), { sha: sha('3') }).finally(() => {
      finished = Date.now();
    });
    const requests = await viaGateway;
    console.log(
      `through the Gateway while the Ingress went: ${requests.sent} requests, ${requests.failed} failed`,
    );
    await expectOk(run);
    expect(requests.failures).toEqual([]);
    expect(requests.revisions[sha('3')]).toBeGreaterThan(0);
    expect(
      await get(cluster, `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/archetype`),
    ).toBeUndefined();
    await expect(frontDoorGet(ingressHost)).rejects.toThrow(/^404 /);
  });

  it('a route its Gateway does not accept fails the deploy with the reason, and the previous release serves', async () => {
    // a listener the shared Gateway does not have; preflight says so first, and lets it go with 'warn'
    const run = await runAction(
      { ...base(await manifests(false, 'https')), preflight: 'warn' },
      { sha: sha('4') },
    );
    expect(run.log).toContain(`Gateway ${infra}/shared has no listener named https`);
    expect(run.code).not.toBe(0);
    expect(run.log).toContain(
      `HTTPRoute/archetype is not accepted by Gateway ${infra}/shared (listener https): NoMatchingParent`,
    );
    expect(run.log).toMatch(/restor/i);
    const answer = await eventually(
      'commit 3 through the Gateway again',
      async () => {
        const body = await gatewayGet(routeHost).catch(() => undefined);
        return body && (JSON.parse(body) as { revision: string }).revision === sha('3') ? body : undefined;
      },
      60_000,
    );
    expect(JSON.parse(answer).revision).toBe(sha('3'));
  });

  it('a backendRef to a port the Service lacks is stopped by validation, naming the file; nothing applied', async () => {
    const run = await runAction(base(await manifests(false, 'http', 8080)), { sha: sha('5') });
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(
      /httproute\.yaml:\d+ HTTPRoute\/archetype: rules\[0\]\.backendRefs 'archetype' port 8080 is not a port of Service\/archetype \(it has 80\)/,
    );
    expect(run.error).toContain('nothing was applied');
    expect(JSON.parse(await gatewayGet(routeHost)).revision).toBe(sha('3'));
  });

  it('a Gateway whose allowedRoutes refuse the namespace stops the deploy at preflight; nothing applied', async () => {
    const run = await runAction(
      { ...base(await manifests(false)), gateway: `${infra}/closed` },
      { sha: sha('6') },
    );
    expect(run.code).not.toBe(0);
    expect(run.log).toMatch(new RegExp(`Gateway ${infra}/closed.*allowedRoutes`));
    const route = await get<{ spec: { parentRefs: { name: string }[] } }>(
      cluster,
      `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/archetype`,
    );
    expect(route?.spec.parentRefs[0]?.name).toBe('shared');
    expect(JSON.parse(await gatewayGet(routeHost)).revision).toBe(sha('3'));
  });
});
