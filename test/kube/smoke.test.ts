import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { applySet } from '../../src/kube/apply/apply.js';
import { smokeCheck, smokeCheckServices } from '../../src/kube/reach/smoke.js';
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
// API server's service proxy (as on AKS).

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

async function rolledOut(name: string): Promise<void> {
  await eventually(
    `Deployment/${name} with 2 ready pods`,
    async () => {
      const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
      return d?.status?.readyReplicas === 2 && d.status.updatedReplicas === 2 ? true : undefined;
    },
    120_000,
  );
  // and the Service's endpoints follow
  await eventually(
    `Service/${name} with 2 ready endpoints`,
    async () => {
      const slices = await cluster.request<{
        items: { endpoints?: { conditions?: { ready?: boolean } }[] }[];
      }>('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
        query: { labelSelector: `kubernetes.io/service-name=${name}` },
      });
      return slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length === 2
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
    expect(result).toEqual({ service: 'real', outcome: 'passed', detail: 'rev-a', requests: 3 });
    expect(lines).toEqual([
      `smoke check of Service/real port 80 in namespace '${ns}': GET / answered revision rev-a (3 requests)`,
    ]);
  });

  it('fails the deploy when another revision answers, saying which', async () => {
    await expect(
      smokeCheck(cluster, ns, 'real', 'http', 'rev-b', { log, intervalMs: 100, attempts: 4 }),
    ).rejects.toThrow(
      /^smoke check failed: GET \/ through Service\/real port http in namespace '.+' did not answer with the deployed revision rev-b \(or, naming none, 2xx\) 3 times in a row in 4 requests \(answers: rev-a x4; last: revision rev-a\)\./,
    );
  });

  it('fails when nothing is ready behind the Service', async () => {
    await applySet(cluster, [service(ns, 'nobody', 'no-such-app')], {
      fieldManager,
      force: false,
      namespace: ns,
    });
    await expect(
      smokeCheck(cluster, ns, 'nobody', 80, 'rev-a', { intervalMs: 100, attempts: 3 }),
    ).rejects.toThrow(/answers: none; last: .*503.*no endpoints available for service/);
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

  it('fails on answers that are not 2xx', async () => {
    await expect(
      smokeCheck(cluster, ns, 'real', 80, 'rev-a', { intervalMs: 100, attempts: 3, path: '/missing' }),
    ).rejects.toThrow(/GET \/missing through Service\/real .*last: .*404/);
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
