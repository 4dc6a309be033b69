import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseAllDocuments } from 'yaml';
import { type App, createApp } from '../src/app.js';
import { DEFAULT_PORT, loadConfig, REQUEST_TIMEOUT_MS } from '../src/config.js';

// k8s/*.yaml against each other, against the service and image they run, and against the write-up's
// cluster: one 2-core node with ~230m CPU left after its system pods (1900m allocatable, 1670m requested).
const NODE_CPU_LEFT_MILLI = 1900 - 1670;

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, whose shape is what the tests check
type Obj = Record<string, any>;

function load(file: string): Obj {
  const url = new URL(`../../k8s/${file}`, import.meta.url);
  const docs = parseAllDocuments(readFileSync(url, 'utf8'));
  expect(docs).toHaveLength(1);
  const [doc] = docs;
  if (!doc || doc.errors.length > 0) throw new Error(`k8s/${file}: ${doc?.errors.join('; ')}`);
  return doc.toJS() as Obj;
}

const deployment = load('deployment.yaml');
const service = load('service.yaml');
const ingress = load('ingress.yaml');
const pod = deployment.spec.template.spec;
const podLabels: Record<string, string> = deployment.spec.template.metadata.labels;
const container: Obj = pod.containers.find((c: Obj) => c.name === 'archetype');
const env = Object.fromEntries((container.env ?? []).map((e: Obj) => [e.name, e.value])) as Record<
  string,
  string
>;

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function containerPort(port: number | string): Obj | undefined {
  return container.ports.find((p: Obj) => p.name === port || p.containerPort === port);
}

function milliCpu(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Number(text) * 1000;
}

function mebibytes(quantity: string): number {
  const units: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    k: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  const [, value, unit] = /^(\d+(?:\.\d+)?)([KMG]i?|k)?$/.exec(quantity) ?? [];
  if (value === undefined) throw new Error(`unreadable memory quantity "${quantity}"`);
  return Number(value) * (unit ? (units[unit] ?? Number.NaN) : 1 / 2 ** 20);
}

test('kinds, names, one container named archetype, and no namespace (the action sets it)', () => {
  expect([deployment.kind, service.kind, ingress.kind]).toEqual(['Deployment', 'Service', 'Ingress']);
  expect(deployment.apiVersion).toBe('apps/v1');
  expect(ingress.apiVersion).toBe('networking.k8s.io/v1');
  for (const manifest of [deployment, service, ingress]) {
    expect(manifest.metadata.namespace).toBeUndefined();
    expect(manifest.metadata.labels['app.kubernetes.io/name']).toBe('archetype');
  }
  expect(pod.containers).toHaveLength(1);
  // The placeholder the action replaces with the pushed image by digest.
  expect(container.image).toBe('archetype');
});

test('2 replicas whose pod labels match the Deployment selector and the Service selector', () => {
  expect(deployment.spec.replicas).toBe(2);
  expect(selects(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
  expect(deployment.spec.selector.matchExpressions).toBeUndefined();
  expect(selects(service.spec.selector, podLabels)).toBe(true);
  expect(podLabels['app.kubernetes.io/name']).toBe('archetype');
});

test('ports line up: Ingress -> Service 80 -> container port http 8000, where the app listens', () => {
  expect(container.ports).toEqual([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
  expect(Number(env.PORT ?? DEFAULT_PORT)).toBe(8000);
  expect(DEFAULT_PORT).toBe(8000);

  expect(service.spec.type).toBe('ClusterIP');
  expect(service.spec.ports).toHaveLength(1);
  const [servicePort] = service.spec.ports;
  expect(servicePort.port).toBe(80);
  expect(containerPort(servicePort.targetPort)?.containerPort).toBe(8000);

  expect(ingress.spec.ingressClassName).toBe('webapprouting.kubernetes.azure.com');
  expect(ingress.spec.rules).toHaveLength(1);
  const [rule] = ingress.spec.rules;
  expect(rule.host).toBe('archetype.example.com');
  expect(rule.http.paths).toHaveLength(1);
  const [path] = rule.http.paths;
  expect(path).toMatchObject({ path: '/', pathType: 'Prefix' });
  expect(path.backend.service.name).toBe(service.metadata.name);
  const backendPort = path.backend.service.port;
  expect(
    service.spec.ports.some((p: Obj) => p.name === backendPort.name || p.port === backendPort.number),
  ).toBe(true);
});

test('resource requests fit the nearly full 2-core node, even during a rolling update', () => {
  const { requests, limits } = container.resources;
  const surge = deployment.spec.strategy.rollingUpdate.maxSurge;
  expect(Number.isInteger(surge)).toBe(true); // a percentage would round up and could add pods
  const pods = deployment.spec.replicas + surge;
  expect(pods * milliCpu(requests.cpu)).toBeLessThanOrEqual(NODE_CPU_LEFT_MILLI);
  expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  expect(milliCpu(limits.cpu)).toBeGreaterThanOrEqual(milliCpu(requests.cpu));
  expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(64);
  expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(mebibytes(requests.memory));
});

test('non-root, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
  const imageUser = /^USER\s+(\d+)/m.exec(dockerfile)?.[1];
  expect(imageUser).toBeDefined();
  expect(pod.securityContext).toMatchObject({
    runAsNonRoot: true,
    runAsUser: Number(imageUser),
    seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
  expect(container.securityContext).toMatchObject({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  expect(container.securityContext.privileged ?? false).toBe(false);
  expect(container.securityContext.capabilities.add).toBeUndefined();
});

test('the grace period outlasts the drain delay plus the longest request', () => {
  const { shutdownDelayMs } = loadConfig(env); // also: the manifest's values are valid for the app
  expect(shutdownDelayMs).toBeGreaterThan(0);
  expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownDelayMs + REQUEST_TIMEOUT_MS);
  // A preStop exec would need a shell or sleep binary the image does not have.
  expect(container.lifecycle?.preStop?.exec).toBeUndefined();
});

describe('probes point at real routes of the service', () => {
  let server: App;
  let base: string;

  beforeAll(async () => {
    server = await createApp(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(server.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await server.app.close();
  });

  const probes = ['startupProbe', 'livenessProbe', 'readinessProbe'] as const;
  const status = async (path: string) => (await fetch(base + path)).status;

  test.each(probes)('%s: HTTP GET on the http port answers 200', async (name) => {
    const probe = container[name];
    expect(probe?.httpGet).toBeDefined();
    expect(containerPort(probe.httpGet.port)?.containerPort).toBe(8000);
    expect(await status(probe.httpGet.path)).toBe(200);
  });

  test('once draining, the readiness probe fails and the liveness probe does not', async () => {
    server.lifecycle.startDraining();
    expect(await status(container.readinessProbe.httpGet.path)).toBe(503);
    expect(await status(container.livenessProbe.httpGet.path)).toBe(200);
    expect(await status(container.startupProbe.httpGet.path)).toBe(200);
  });
});
