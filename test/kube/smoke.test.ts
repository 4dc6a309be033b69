import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject, V1Deployment, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { applySet } from '../../src/kube/apply/apply.js';
import { smokeCheck, smokeCheckServices } from '../../src/kube/reach/smoke.js';
import { smokeCheckAnnotation, smokePathAnnotation } from '../../src/names.js';
import {
  deleteNamespace,
  deployment,
  eventually,
  fieldManager,
  get,
  namespaceName,
  service,
  testCluster,
} from '../helpers/cluster.js';
import { buildAndPushImage } from '../helpers/images.js';
import { pullSecretName, realNode, withPullSecret } from '../helpers/real-node.js';

// The post-deploy smoke check against the local target: pods on the real node answer GET / through the
// API server's service proxy (as on AKS); pods on kwok nodes run nothing, and the API server cannot reach
// them (scripts/local-stack: node-egress refuses every address but the real node's). Each failure's
// message is asserted for the cause it names.

const run = promisify(execFile);
const cluster = testCluster();
const ns = namespaceName('t-smoke');
const lines: string[] = [];
const log = (line: string) => lines.push(line);
let image = '';

/** A tiny server on the local base image: GET / answers {"revision": $REVISION}. Pushed; by digest. */
async function pushRevisionServer(): Promise<string> {
  const registry = process.env.REGISTRY as string;
  const work = mkdtempSync(join(tmpdir(), 'smoke-image-'));
  const dockerConfig = join(work, 'docker');
  const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
  try {
    const login = run(
      'docker',
      ['login', registry, '--username', process.env.REGISTRY_USERNAME as string, '--password-stdin'],
      { env },
    );
    login.child.stdin?.end(process.env.REGISTRY_PASSWORD);
    await login;
    // GET /plain answers 2xx without a revision, /missing 404, anything else {"revision": $REVISION}
    const server =
      'require("http").createServer((q, s) => { if (q.url === "/plain") return s.end("ok"); ' +
      'if (q.url === "/missing") { s.statusCode = 404; return s.end("no"); } ' +
      's.setHeader("content-type", "application/json"); ' +
      's.end(JSON.stringify({ name: "smoke", revision: process.env.REVISION })) }).listen(8000)';
    writeFileSync(
      join(work, 'Dockerfile'),
      `ARG NODE_IMAGE\nFROM \${NODE_IMAGE}\nUSER 1000:1000\nCMD ["node", "-e", ${JSON.stringify(server)}]\n`,
    );
    const digest = await buildAndPushImage({
      context: work,
      tag: `${registry}/smoke-server:latest`,
      buildArgs: { NODE_IMAGE: process.env.NODE_IMAGE ?? '' },
      env,
    });
    return `${registry}/smoke-server@${digest}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The server as Deployment `name` (REVISION=revision), on the real node. */
function app(name: string, revision: string): KubernetesObject[] {
  const d = deployment(ns, { name, image, replicas: 2, env: { REVISION: revision } }) as V1Deployment;
  const spec = d.spec?.template.spec;
  if (spec) {
    const { label } = realNode();
    spec.nodeSelector = { [label]: 'true' };
    spec.tolerations = [{ key: label, operator: 'Equal', value: 'true', effect: 'NoSchedule' }];
    spec.imagePullSecrets = [{ name: pullSecretName }];
    const c = spec.containers[0];
    if (c) c.readinessProbe = { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 };
  }
  return [d, service(ns, name, name)];
}

async function rolledOut(name: string, replicas = 2): Promise<void> {
  await eventually(
    `Deployment/${name} with ${replicas} ready pods`,
    async () => {
      const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
      return d?.status?.readyReplicas === replicas && d.status.updatedReplicas === replicas
        ? true
        : undefined;
    },
    120_000,
  );
  // and the Service's endpoints follow
  await eventually(
    `Service/${name} with ${replicas} ready endpoints`,
    async () => {
      const slices = await cluster.request<{
        items: { endpoints?: { conditions?: { ready?: boolean } }[] }[];
      }>('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
        query: { labelSelector: `kubernetes.io/service-name=${name}` },
      });
      return slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length ===
        replicas
        ? true
        : undefined;
    },
    30_000,
  );
}

beforeAll(async () => {
  realNode();
  image = await pushRevisionServer();
  await withPullSecret(ns);
  await applySet(cluster, app('real', 'rev-a'), {
    fieldManager,
    force: false,
    namespace: ns,
  });
  await rolledOut('real');
}, 10 * 60_000);

afterAll(async () => {
  await deleteNamespace(cluster, ns);
});

beforeEach(() => {
  lines.length = 0;
});

describe('smokeCheck', () => {
  it('passes when the pods behind the Service answer the deployed revision', async () => {
    const result = await smokeCheck(cluster, ns, 'real', 80, 'rev-a', { log, intervalMs: 200 });
    expect(result).toEqual({ service: 'real', outcome: 'passed', detail: 'rev-a', requests: 3, path: '/' });
    expect(lines).toEqual([
      `smoke check of Service/real port 80 in namespace '${ns}': GET / answered revision rev-a (3 requests)`,
    ]);
  });

  it('fails the deploy when another revision answers, saying which', async () => {
    await expect(
      smokeCheck(cluster, ns, 'real', 'http', 'rev-b', { log, intervalMs: 100, attempts: 4 }),
    ).rejects.toThrow(
      /^smoke check failed: GET \/ through Service\/real port http in namespace '.+' did not answer with the deployed revision rev-b \(or, naming none, 2xx\) 3 times in a row in 4 requests \(answers: rev-a x4; last: revision rev-a\)\. Pods answering \/ run revision rev-a, not rev-b: build the image with --build-arg REVISION=<commit>/,
    );
  });

  it('fails when nothing is ready behind the Service', async () => {
    await applySet(cluster, [service(ns, 'nobody', 'no-such-app')], {
      fieldManager,
      force: false,
      namespace: ns,
    });
    // the API server's proxy learns of a new Service from its informer a moment after the write: until
    // then it answers "not found" for it (checked again until the proxy knows the Service)
    const failure = await eventually('the API server proxy to know Service/nobody', () =>
      smokeCheck(cluster, ns, 'nobody', 80, 'rev-a', { intervalMs: 100, attempts: 3 }).then(
        () => new Error('the smoke check passed'),
        (error: Error) => (/no service x/.test(error.message) ? undefined : error),
      ),
    );
    expect(failure.message).toMatch(
      /answers: 503 no endpoints x3; last: .*503.*no endpoints available for service/,
    );
  });

  it('passes on a 2xx answer that names no revision (input smoke-path)', async () => {
    const result = await smokeCheck(cluster, ns, 'real', 80, 'rev-b', {
      log,
      intervalMs: 100,
      path: '/plain',
    });
    expect(result).toMatchObject({ outcome: 'passed', detail: '2xx' });
    expect(lines).toEqual([
      `smoke check of Service/real port 80 in namespace '${ns}': GET /plain answered 2xx (no revision in the answer) (3 requests)`,
    ]);
  });

  it('fails on a 404 naming the path tried, input smoke-path and the annotation, not REVISION', async () => {
    const error = await smokeCheck(cluster, ns, 'real', 80, 'rev-a', {
      intervalMs: 100,
      attempts: 3,
      path: '/missing',
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/GET \/missing through Service\/real .*\(answers: 404 x3; last: .*404/);
    expect(message).toContain(
      `The app has no /missing: set input smoke-path to a path it serves (e.g. smoke-path: /healthz), or annotate Service/real with ${smokePathAnnotation}: /healthz for this Service only.`,
    );
    expect(message).not.toContain('REVISION');
  });

  it('smokeCheckServices checks each Service whose pods run the built image, on its http port', async () => {
    // a Service in front of another image (a cache on 6379) gets no HTTP request: endpoints only
    const cache = deployment(ns, { name: 'cache', image: `redis@sha256:${'c'.repeat(64)}` });
    const results = await smokeCheckServices(
      cluster,
      ns,
      [...app('real', 'rev-a'), cache, service(ns, 'cache', 'cache')],
      'rev-a',
      image,
      { log, intervalMs: 200 },
    );
    expect(results.map((r) => [r.service, r.outcome])).toEqual([['real', 'passed']]);
    expect(lines).toContain(
      'smoke check of Service/cache: not run, its pods do not run the image just built (endpoints only)',
    );
  });
});

/** A Service in front of the pods of app `app` (its selector), with these ports and annotations. */
function frontOf(
  name: string,
  app: string,
  ports: V1ServicePort[],
  annotations?: Record<string, string>,
): V1Service {
  const s = service(ns, name, app) as V1Service;
  if (annotations) s.metadata = { ...s.metadata, annotations };
  if (s.spec) s.spec.ports = ports;
  return s;
}

async function applied(...objects: KubernetesObject[]): Promise<void> {
  await applySet(cluster, objects, { fieldManager, force: false, namespace: ns });
}

/** smokeCheckServices over the set, the input path '/missing' (a 404 wherever a GET is made). */
const checkSet = (set: KubernetesObject[], revision = 'rev-a', path = '/missing') =>
  smokeCheckServices(cluster, ns, set, revision, image, { log, intervalMs: 100, attempts: 5, path });

describe('smokeCheckServices: the check each Service gets', () => {
  it('checks a Service that speaks no HTTP for ready endpoints only, with no GET', async () => {
    // the real pods behind ports named grpc and with appProtocol redis: a GET of /missing would fail
    const grpc = frontOf('real-grpc', 'real', [{ name: 'grpc', port: 9000, targetPort: 'http' }]);
    const redis = frontOf('real-redis', 'real', [
      { name: 'cache', port: 6379, targetPort: 'http', appProtocol: 'redis' },
    ]);
    await applied(grpc, redis);
    const [deployment] = app('real', 'rev-a');
    const results = await checkSet([deployment as KubernetesObject, grpc, redis]);
    expect(results).toEqual([
      { service: 'real-grpc', outcome: 'endpoints', detail: '2 ready', requests: 0 },
      { service: 'real-redis', outcome: 'endpoints', detail: '2 ready', requests: 0 },
    ]);
    expect(lines).toEqual([
      "smoke check of Service/real-grpc: endpoints only (no port speaks HTTP: port 'grpc' (9000) is named for grpc): 2 ready endpoints",
      "smoke check of Service/real-redis: endpoints only (no port speaks HTTP: port 'cache' (6379) has appProtocol 'redis'): 2 ready endpoints",
    ]);
  });

  it('fails a non-HTTP Service with no ready endpoint, naming its selector', async () => {
    const ghost = deployment(ns, { name: 'ghost', image });
    const front = frontOf('ghost-grpc', 'ghost', [{ name: 'grpc', port: 9000, targetPort: 'http' }]);
    await applied(front);
    await expect(
      smokeCheckServices(cluster, ns, [ghost, front], 'rev-a', image, { log, endpointsWaitMs: 1000 }),
    ).rejects.toThrow(
      `smoke check failed: Service/ghost-grpc in namespace '${ns}' (endpoints only: no port speaks HTTP: port 'grpc' (9000) is named for grpc) has no ready endpoint. Its selector app.kubernetes.io/name=ghost matches no ready pod`,
    );
  });

  it("GETs the path of the Service's annotation over the input", async () => {
    // /plain answers 2xx naming no revision: it passes where / (rev-a) would not for rev-b
    const front = frontOf('real-plain', 'real', [{ name: 'http', port: 80, targetPort: 'http' }], {
      [smokePathAnnotation]: '/plain',
    });
    await applied(front);
    const [d] = app('real', 'rev-a');
    const results = await checkSet([d as KubernetesObject, front], 'rev-b', '/');
    expect(results.map((r) => [r.service, r.outcome, r.detail])).toEqual([['real-plain', 'passed', '2xx']]);
    // 3 in a row, after any the API server's proxy answered before it knew the new Service
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^smoke check of Service/real-plain port 80 in namespace '${ns}': GET /plain answered 2xx \\(no revision in the answer\\) \\([3-9] requests\\)$`,
        ),
      ),
    ]);
  });

  it('names the annotation when its path is the one missing', async () => {
    const front = frontOf('real-typo', 'real', [{ name: 'http', port: 80, targetPort: 'http' }], {
      [smokePathAnnotation]: '/missing',
    });
    await applied(front);
    const [d] = app('real', 'rev-a');
    await expect(checkSet([d as KubernetesObject, front], 'rev-a', '/')).rejects.toThrow(
      `The app has no /missing: fix the Service's annotation ${smokePathAnnotation} (/missing) to a path it serves, e.g. /healthz.`,
    );
  });

  it('skips a Service annotated smoke-check "false", and one without a selector, saying so', async () => {
    const front = frontOf('real-off', 'real', [{ name: 'http', port: 80, targetPort: 'http' }], {
      [smokeCheckAnnotation]: 'false',
    });
    // endpoints of its own (no selector): nothing the action rolled out answers there
    const manual = frontOf('manual', 'real', [{ name: 'http', port: 80, targetPort: 8000 }]);
    if (manual.spec) delete manual.spec.selector;
    await applied(front, manual);
    const [d] = app('real', 'rev-a');
    // input path /missing would fail a GET
    expect(await checkSet([d as KubernetesObject, front, manual])).toEqual([]);
    expect(lines).toEqual([
      `smoke check of Service/real-off: off, annotation ${smokeCheckAnnotation} is "false"`,
      'smoke check of Service/manual: not run, it has no selector (its endpoints are not pods it selects)',
    ]);
  });

  it('fails a Service of the built image with no ready pod on 503, naming the selector', async () => {
    const ghost = deployment(ns, { name: 'ghost', image });
    const front = service(ns, 'ghost', 'ghost');
    await applied(front);
    await expect(checkSet([ghost, front], 'rev-a', '/')).rejects.toThrow(
      `; last: GET /api/v1/namespaces/${ns}/services/ghost:80/proxy/: 503 ServiceUnavailable: no endpoints available for service "ghost"). No ready pod backs Service/ghost: its selector app.kubernetes.io/name=ghost matches no ready pod in namespace '${ns}'`,
    );
  });

  it('fails a Service whose targetPort nothing listens on, naming the targetPort', async () => {
    const front = frontOf('real-wrong-port', 'real', [{ name: 'http', port: 80, targetPort: 9999 }]);
    await applied(front);
    const [d] = app('real', 'rev-a');
    const error = await checkSet([d as KubernetesObject, front], 'rev-a', '/').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    // (a Service just created may be 'not found' by the proxy for a moment: counted apart)
    expect(message).toMatch(
      /answers: (no service x\d, )?503 connection refused x\d; last: .*error trying to reach service/,
    );
    expect(message).toContain(
      "Nothing listens on targetPort 9999 (port 80) in the pods of Service/real-wrong-port: check that targetPort is the app's containerPort",
    );
    expect(message).not.toContain('REVISION');
  });

  it('on pods of a kwok node (Ready, running nothing), names the port and the simulated node, not REVISION', async () => {
    const sim = deployment(ns, { name: 'sim', image, replicas: 1 });
    const front = service(ns, 'sim', 'sim');
    await applied(sim, front);
    await rolledOut('sim', 1);
    const error = await checkSet([sim, front], 'rev-a', '/').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    // the local target's egress refuses kwok pods' addresses (403), as a dropped dial would fail on AKS
    expect(message).toMatch(
      /answers: (no service x\d, )?503 unreachable x\d; last: .*error trying to reach service/,
    );
    expect(message).toContain(
      'The API server could not reach the pods of Service/sim (targetPort http, port 80): a NetworkPolicy that drops traffic from the control plane, or nodes that run no containers (kwok, simulated nodes)',
    );
    expect(message).toContain(
      `turn the check off for this Service (its annotation ${smokeCheckAnnotation}: "false"`,
    );
    expect(message).not.toContain('REVISION');
  });
});
