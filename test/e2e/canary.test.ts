import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { releaseAnnotations, releaseLabels } from '../../src/names.js';
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

// strategy canary end to end on the real node, through dist/index.js as the production identity, with the
// local target's Gateway API controller splitting the route (tools/edge): a good revision goes 10 → 50 → 100
// with every request through the Gateway answered and ends as a rolling deploy would; a revision whose `/`
// fails a third of the time is aborted at its first step with the measured error ratio, stable serving and
// no canary left.

jest.setTimeout(900_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-canary');
const infra = namespaceName('e2e-canary-gw');
const host = `${namespace}.localhost`;
const sha = (c: string) => c.repeat(40);
const folders: string[] = [];
let deployer: ProductionIdentity;
let gatewayAddress = '';

// answers 500 to every third GET / (and 200 to the probes of the kubelet)
const failingServer =
  "const h=require('http');let n=0;h.createServer((q,s)=>{if(q.url==='/'&&++n%3===0){s.writeHead(500);s.end('{}');return}" +
  "s.writeHead(200,{'content-type':'application/json'});s.end(JSON.stringify({revision:'bad'}))}).listen(8000)";

// answers GET / after 400 ms
const slowServer =
  "const h=require('http');h.createServer((q,s)=>setTimeout(()=>{s.writeHead(200,{'content-type':'application/json'});" +
  "s.end(JSON.stringify({revision:'slow'}))},q.url==='/'?400:0)).listen(8000)";

/** k8s/ on the real node with the archetype's HTTPRoute in place of its Ingress; `server` replaces the app. */
async function manifests(server?: string): Promise<string> {
  const dir = await realNodeManifests((file, text) =>
    server && file === 'deployment.yaml'
      ? text.replace(/( +)image: archetype\n/, `$1image: archetype\n$1command: ["node", "-e", "${server}"]\n`)
      : text,
  );
  folders.push(dir);
  unlinkSync(join(dir, 'ingress.yaml'));
  writeFileSync(
    join(dir, 'httproute.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: archetype
spec:
  parentRefs:
    - name: shared
      namespace: ${infra}
  hostnames: [archetype.example.com]
  rules:
    - backendRefs:
        - name: archetype
          port: 80
`,
  );
  return dir;
}

const deploy = (
  dir: string,
  commit: string,
  more: Record<string, string> = {},
  onStart?: (pid: number) => void,
): Promise<ActionRun> =>
  runAction(
    {
      ...localTargetInputs(),
      kubeconfig: deployer.kubeconfig,
      mode: 'deploy',
      namespace,
      host,
      manifests: dir,
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'canary-step-duration': '4s',
      'canary-min-requests': '20',
      'rollout-timeout': '240s',
      'smoke-check': 'true',
      ...more,
    },
    { sha: sha(commit), ...(onStart ? { onStart } : {}) },
  );

type Route = { spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] } };
const route = () =>
  get<Route>(cluster, `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/archetype`);
const deployment = (name: string) =>
  get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
const viaGateway = () => frontDoorGet(host, '/', `${gatewayAddress}:80`);

beforeAll(async () => {
  realNode();
  deployer = await productionIdentity(cluster, [namespace]);
  await withPullSecret(namespace);
  gatewayAddress = await sharedGateway(cluster, infra, [
    { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
  ]);
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
  await deleteNamespace(cluster, infra);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

async function expectOk(run: ActionRun): Promise<void> {
  if (run.code !== 0) expectRunOk(run, await realNodeReport(cluster, namespace));
}

describe('strategy canary on the real node', () => {
  it('rolls out the first deploy: there is nothing stable to compare with', async () => {
    const run = await deploy(await manifests(), '1');
    await expectOk(run);
    expect(run.log).toContain(
      'has no deployed release to compare a canary with yet, so this first deploy rolls out',
    );
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('1'));
  });

  it('refuses, before anything is built, a set that no HTTPRoute splits', async () => {
    const dir = await realNodeManifests();
    folders.push(dir);
    const run = await deploy(dir, '7');
    expect(run.code).not.toBe(0);
    expect(run.error).toContain("strategy 'canary' splits traffic with an HTTPRoute's backend weights");
    expect(run.log).not.toContain('docker buildx build');
  });

  it('takes a good revision 10 → 50 → 100 with no failed request, and ends as a rolling deploy would', async () => {
    let finished = 0;
    const requests = requestLoop(cluster, viaGateway, () => finished > 0, {
      maxRequests: 20_000,
      maxMs: 600_000,
      intervalMs: 20,
    });
    const run = await deploy(await manifests(), '2').finally(() => {
      finished = Date.now();
    });
    const loop = await requests;
    await expectOk(run);
    for (const weight of [10, 50, 100])
      expect(run.log).toMatch(
        new RegExp(`canary at ${weight} %: canary \\d+ requests, 0\\.0 % errors.* → pass`),
      );
    expect(loop.failures).toEqual([]);
    // both revisions served while the share moved; only the new one at the end
    expect(loop.revisions[sha('1')]).toBeGreaterThan(0);
    expect(loop.revisions[sha('2')]).toBeGreaterThan(0);
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('2'));
    // the end state of a rolling deploy: one backend, no weight, no canary objects
    expect((await route())?.spec.rules).toEqual([
      expect.objectContaining({ backendRefs: [expect.objectContaining({ name: 'archetype', port: 80 })] }),
    ]);
    expect((await route())?.spec.rules[0]?.backendRefs[0]?.weight ?? 1).toBe(1);
    expect(await deployment('archetype-canary')).toBeUndefined();
    expect(await get(cluster, `/api/v1/namespaces/${namespace}/services/archetype-canary`)).toBeUndefined();
    expect((await deployment('archetype'))?.spec?.template.spec?.containers[0]?.image).toBe(
      run.outputs.image,
    );
    // each step's figures in the job summary, and in the release record marked deployed
    expect(run.summary.match(/canary at (10|50|100) %: [^<]*→ pass/g)).toHaveLength(3);
    const records = await cluster.request<{
      items: { metadata: { annotations?: Record<string, string> } }[];
    }>('GET', `/api/v1/namespaces/${namespace}/secrets`, {
      query: { labelSelector: `${releaseLabels.outcome}=deployed` },
    });
    const notes = records.items.map((r) => r.metadata.annotations?.[releaseAnnotations.note] ?? '');
    expect(
      notes.filter((n) =>
        /^canary at 10 %: .*→ pass; canary at 50 %: .*→ pass; canary at 100 %: .*→ pass$/.test(n),
      ),
    ).toHaveLength(1);
  });

  it('aborts a revision that fails a third of its requests at the first step, stable serving', async () => {
    const run = await deploy(await manifests(failingServer), '3');
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(
      /canary at 10 %: canary \d+ requests, 3\d\.\d % errors.*abort: error ratio 3\d\.\d %/,
    );
    expect(run.log).not.toMatch(/canary at 50 %/);
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('2'));
    expect(await deployment('archetype-canary')).toBeUndefined();
    expect((await route())?.spec.rules).toHaveLength(1);
  });

  it('aborts a revision whose p95 latency is far above stable’s, with both figures', async () => {
    const run = await deploy(await manifests(slowServer), '6');
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(
      /canary at 10 %: canary \d+ requests, 0\.0 % errors, p95 4\d\d ms;.*abort: p95 latency 4\d\d ms against stable's \d+ ms: above 100 ms/,
    );
    expect(run.summary).toContain('Canary');
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('2'));
    expect(await deployment('archetype-canary')).toBeUndefined();
  });

  it('repairs first the split a run killed mid-canary left, whatever the next run’s strategy', async () => {
    let pid = 0;
    const killed = deploy(await manifests(), '4', { 'canary-step-duration': '300s' }, (p) => {
      pid = p;
    });
    await eventually(
      'the route split by the canary',
      async () => (((await route())?.spec.rules.length ?? 0) > 1 ? true : undefined),
      240_000,
    );
    // a lost runner: no cancellation, no restore
    process.kill(pid, 'SIGKILL');
    await killed;
    expect(await deployment('archetype-canary')).toBeDefined();
    // the killed run's lock lapses (its Lease is no longer renewed), then the next run repairs before it writes
    const run = await deploy(await manifests(), '5', { strategy: 'rolling' });
    await expectOk(run);
    expect(run.log).toContain(
      'a canary left by an earlier run (cancelled, lost, or paused for a review) was taken back first: HTTPRoute/archetype back to release',
    );
    expect(run.log.indexOf('was taken back first')).toBeLessThan(
      run.log.indexOf('HTTPRoute/archetype configured'),
    );
    expect(await deployment('archetype-canary')).toBeUndefined();
    expect((await route())?.spec.rules).toHaveLength(1);
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('5'));
  });

  it('pauses at 50 % for a review; mode promote takes what was measured on to 100 %', async () => {
    const paused = await deploy(await manifests(), '8', { 'canary-pause': 'true' });
    await expectOk(paused);
    expect(paused.outputs.canary).toBe('paused');
    expect(paused.log).toMatch(/canary at 50 %: .*→ pass/);
    expect(paused.log).not.toMatch(/canary at 100 %/);
    expect(paused.summary).toContain('paused at 50 %: run mode promote or mode abort');
    // split and waiting: the canary serves its share, the release is paused at 50, nothing pruned
    expect((await route())?.spec.rules.length).toBeGreaterThan(1);
    expect(await deployment('archetype-canary')).toBeDefined();
    expect((await deployment('archetype'))?.spec?.template.spec?.containers[0]?.image).not.toBe(
      paused.outputs.image,
    );
    expect(await releasesWith('paused')).toEqual([
      expect.objectContaining({ pausedAt: '50', sha: sha('8') }),
    ]);

    let finished = 0;
    const requests = requestLoop(cluster, viaGateway, () => finished > 0, {
      maxRequests: 20_000,
      maxMs: 600_000,
      intervalMs: 20,
    });
    // the reviewer's run has another checkout: what is promoted is the release that was measured
    const run = await deploy(await manifests(slowServer), '9', { mode: 'promote' }).finally(() => {
      finished = Date.now();
    });
    const loop = await requests;
    await expectOk(run);
    expect(run.outputs.canary).toBe('promoted');
    expect(run.log).toContain('the canary goes on from 50 %');
    expect(run.log).toMatch(/canary at 100 %: .*→ pass/);
    expect(run.log).not.toMatch(/canary at 10 %/);
    expect(loop.failures).toEqual([]);
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('8'));
    expect(await deployment('archetype-canary')).toBeUndefined();
    expect((await route())?.spec.rules).toHaveLength(1);
    expect((await deployment('archetype'))?.spec?.template.spec?.containers[0]?.image).toBe(
      paused.outputs.image,
    );
    expect(await releasesWith('paused')).toEqual([]);
    const [deployed] = (await releasesWith('deployed')).filter((r) => r.sha === sha('8'));
    expect(deployed?.note).toMatch(
      /^canary paused at 50 % after canary at 10 %.*; canary at 100 %: .*→ pass$/,
    );
  });

  it('aborts a paused canary by hand: stable takes all the traffic back, and nothing is left to promote', async () => {
    const paused = await deploy(await manifests(), 'a', { 'canary-pause': 'true' });
    await expectOk(paused);
    expect(paused.outputs.canary).toBe('paused');
    const run = await deploy(await manifests(), 'b', { mode: 'abort' });
    await expectOk(run);
    expect(run.outputs.canary).toBe('aborted');
    expect(run.summary).toContain(`The canary of release`);
    expect(run.summary).toContain('was aborted at 50 %');
    expect(JSON.parse(await viaGateway()).revision).toBe(sha('8'));
    expect(await deployment('archetype-canary')).toBeUndefined();
    expect((await route())?.spec.rules).toHaveLength(1);
    const [failed] = (await releasesWith('failed')).filter((r) => r.sha === sha('a'));
    expect(failed?.note).toMatch(/^canary paused at 50 % aborted by hand/);
    const again = await deploy(await manifests(), 'b', { mode: 'promote' });
    expect(again.code).not.toBe(0);
    expect(again.error).toMatch(
      /mode promote: no canary of .* waits for a review; the newest release, \d+ \(commit aaaaaaa\), is failed/,
    );
  });
});

/** The release records with this outcome, as the cluster holds them. */
async function releasesWith(outcome: string): Promise<{ sha: string; note: string; pausedAt?: string }[]> {
  const records = await cluster.request<{
    items: { metadata: { annotations?: Record<string, string> } }[];
  }>('GET', `/api/v1/namespaces/${namespace}/secrets`, {
    query: { labelSelector: `${releaseLabels.outcome}=${outcome}` },
  });
  return records.items.map(({ metadata: { annotations: a = {} } }) => ({
    sha: a[releaseAnnotations.sha] ?? '',
    note: a[releaseAnnotations.note] ?? '',
    ...(a[releaseAnnotations.pausedAt] ? { pausedAt: a[releaseAnnotations.pausedAt] } : {}),
  }));
}
