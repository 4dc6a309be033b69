import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { jest } from '@jest/globals';
import type { V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { eventFile } from '../fakes/github-server.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// Releases end to end, as a runner runs dist/index.js against the local target, as the production identity:
// each deploy records its whole set in a release Secret; a failure after the first write restores the
// previous release entirely (every Deployment, the ConfigMaps' data, objects it added gone, objects it
// dropped still there), and prune runs only once a release is proven.

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-releases');
const sha = (c: string) => c.repeat(40);
let deployer: ProductionIdentity;

/** A build context with no RUN step: quick to build, never run (kwok nodes). */
function context(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rel-context-'));
  writeFileSync(join(dir, 'hello.txt'), 'releases\n');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  return dir;
}
const buildContext = context();

interface SetOptions {
  mode: string;
  /** ConfigMaps besides 'rel-settings', by name */
  extraConfigMaps?: string[];
  /** pod annotations of the worker (kwok's archetype.local/fail makes it fail like a kubelet reports) */
  workerAnnotations?: Record<string, string>;
  webAnnotations?: Record<string, string>;
  /** Secrets besides, by name: a kind the other sets do not hold */
  secrets?: string[];
}

function deployment(name: string, mode: string, annotations: Record<string, string> = {}) {
  const labels = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'rel.example/mode': mode, ...annotations } },
        spec: {
          ...restrictedPod,
          containers: [
            {
              ...restrictedContainer,
              name: 'app',
              image: 'rel-app',
              ports: [{ name: 'http', containerPort: 8000 }],
              envFrom: [{ configMapRef: { name: 'rel-settings' } }],
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
            },
          ],
        },
      },
    },
  };
}

/** Two Deployments (web behind a Service, worker), ConfigMap rel-settings and the extra ConfigMaps. */
function manifests(options: SetOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'rel-k8s-'));
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'rel-settings' },
      data: { MODE: options.mode },
    },
    ...(options.extraConfigMaps ?? []).map((name) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
      data: { from: options.mode },
    })),
    ...(options.secrets ?? []).map((name) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
      stringData: { from: options.mode },
    })),
    deployment('rel-web', options.mode, options.webAnnotations),
    deployment('rel-worker', options.mode, options.workerAnnotations),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'rel-web', labels: { 'app.kubernetes.io/name': 'rel-web' } },
      spec: {
        selector: { 'app.kubernetes.io/name': 'rel-web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    },
  ];
  objects.forEach((o, i) => {
    writeFileSync(join(dir, `${i}-${o.metadata.name}.yaml`), JSON.stringify(o, null, 2));
  });
  return dir;
}

const inputs = (options: SetOptions, extra: Record<string, string> = {}) => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  'app-name': 'rel-app',
  'image-name': `${namespace}/rel-app`,
  context: buildContext,
  namespace,
  manifests: manifests(options),
  'failure-grace': '3s, 2 restarts',
  'rollout-timeout': '90s',
  ...extra,
});

const configMap = (name: string) =>
  get<V1ConfigMap>(cluster, `/api/v1/namespaces/${namespace}/configmaps/${name}`);
const template = async (name: string) =>
  (await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`))?.spec
    ?.template.metadata?.annotations ?? {};

/** The release records in the namespace: number, outcome, commit and the names in the set. */
async function releases() {
  const list = await cluster.request<{ items: V1Secret[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/secrets`,
    {
      query: { labelSelector: 'archetype-deploy.github.io/release-of=rel-app' },
    },
  );
  return list.items
    .map((s) => {
      const set = JSON.parse(gunzipSync(Buffer.from(s.data?.release ?? '', 'base64')).toString()) as {
        objects: { kind: string; metadata: { name: string } }[];
      };
      return {
        number: Number(s.metadata?.labels?.['archetype-deploy.github.io/release']),
        outcome: s.metadata?.labels?.['archetype-deploy.github.io/outcome'],
        sha: s.metadata?.annotations?.['archetype-deploy.github.io/git-sha'],
        type: s.type,
        objects: set.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
      };
    })
    .sort((a, b) => a.number - b.number);
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace], 'rel-app');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

describe('releases', () => {
  it('records the first release, whole, as deployed', async () => {
    const run = await runAction(inputs({ mode: 'a', extraConfigMaps: ['rel-dropped'] }), { sha: sha('1') });
    expectRunOk(run);
    expect(run.log).toMatch(/release 1 recorded \(Secret rel-app-release-v1\)/);
    expect(await releases()).toEqual([
      {
        number: 1,
        outcome: 'deployed',
        sha: sha('1'),
        type: 'archetype-deploy.github.io/release.v1',
        objects: [
          'ConfigMap/rel-dropped',
          'ConfigMap/rel-settings',
          'Deployment/rel-web',
          'Deployment/rel-worker',
          'Service/rel-web',
        ],
      },
    ]);
  });

  it('a failing Deployment brings back the whole previous release: both Deployments, the ConfigMap data, what was dropped, not what was added', async () => {
    const run = await runAction(
      inputs({
        mode: 'b',
        extraConfigMaps: ['rel-added'],
        workerAnnotations: { 'archetype.local/fail': 'CrashLoopBackOff' },
      }),
      { sha: sha('2') },
    );
    expect(run.code).toBe(1);
    expect(run.error).toMatch(/the rollout of Deployment\/rel-worker revision 2 failed/);
    expect(run.error).toMatch(
      /Rolled back to release 1 \(1111111\): Deployment\/rel-web revision 1 and Deployment\/rel-worker revision 1 are serving again\.$/,
    );
    // the ConfigMap's data, both pod templates: release 1's again
    expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'a' });
    expect(await template('rel-web')).toEqual({ 'rel.example/mode': 'a' });
    expect(await template('rel-worker')).toEqual({ 'rel.example/mode': 'a' });
    // dropped by release 2 but never pruned (release 2 was never proven); added by release 2 and removed
    expect((await configMap('rel-dropped'))?.data).toEqual({ from: 'a' });
    const added = await configMap('rel-added');
    expect(added === undefined || Boolean(added.metadata?.deletionTimestamp)).toBe(true);
    expect((await releases()).map((r) => [r.number, r.outcome])).toEqual([
      [1, 'deployed'],
      [2, 'failed'],
    ]);
  });

  it('a proven release prunes what it dropped, and supersedes the one before', async () => {
    const run = await runAction(inputs({ mode: 'c' }), { sha: sha('3') });
    expectRunOk(run);
    expect(run.log).toMatch(/ConfigMap\/rel-dropped pruned/);
    expect(await configMap('rel-dropped')).toBeUndefined();
    expect((await releases()).map((r) => [r.number, r.outcome])).toEqual([
      [1, 'superseded'],
      [2, 'failed'],
      [3, 'deployed'],
    ]);
  });

  it('an apply refused midway (a quota that dry-runs do not charge) restores the previous release', async () => {
    // every new ConfigMap passes its own dry-run; the real writes are charged, and the second is refused
    const quotaPath = `/api/v1/namespaces/${namespace}/resourcequotas`;
    const existing = await cluster.request<{ items: unknown[] }>(
      'GET',
      `/api/v1/namespaces/${namespace}/configmaps`,
    );
    await cluster.request('POST', quotaPath, {
      body: {
        metadata: { name: 'rel-quota' },
        spec: { hard: { configmaps: String(existing.items.length + 1) } },
      },
    });
    try {
      await eventually('the quota counted by the controller-manager', async () => {
        const q = await get<{ status?: { used?: Record<string, string> } }>(
          cluster,
          `${quotaPath}/rel-quota`,
        );
        return q?.status?.used?.configmaps;
      });
      const run = await runAction(
        inputs(
          { mode: 'd', extraConfigMaps: ['rel-q1', 'rel-q2'] },
          // preflight foresees the quota; past its warning, the dry-run passes and one of the two writes (they
          // go at once) is refused
          { preflight: 'warn' },
        ),
        {
          sha: sha('4'),
        },
      );
      expect(run.code).toBe(1);
      expect(run.error).toMatch(
        /ConfigMap\/rel-q[12].*apply failed after a successful dry-run .*exceeded quota/s,
      );
      expect(run.error).toMatch(
        /Rolled back to release 3 \(3333333\): Deployment\/rel-web revision \d+ and Deployment\/rel-worker revision \d+ are serving again\.$/,
      );
      expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'c' });
      // the one written is taken away again with the rest of the failed release
      for (const name of ['rel-q1', 'rel-q2']) {
        const q = await configMap(name);
        expect(q === undefined || Boolean(q.metadata?.deletionTimestamp)).toBe(true);
      }
      expect((await releases()).map((r) => [r.number, r.outcome]).at(-1)).toEqual([4, 'failed']);
    } finally {
      await cluster.request('DELETE', `${quotaPath}/rel-quota`);
    }
  });

  it('a runner cancel mid-rollout (SIGINT) restores the previous release before the runner kills the run', async () => {
    let pid = 0;
    const running = runAction(
      inputs({ mode: 'e', webAnnotations: { 'archetype.local/ready-after': '120s' } }),
      {
        sha: sha('5'),
        onStart: (p) => {
          pid = p;
        },
      },
    );
    // the new release is recorded and its rollout under way: the web pods wait 120 s to be Ready
    await eventually(
      'release 5 recorded and rel-web on its template',
      async () => ((await template('rel-web'))['rel.example/mode'] === 'e' ? true : undefined),
      60_000,
    );
    const signalled = Date.now();
    process.kill(pid, 'SIGINT');
    const run = await running;
    const seconds = (Date.now() - signalled) / 1000;
    console.log(`cancel: SIGINT -> previous release applied and the run ended in ${seconds.toFixed(1)} s`);
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /^the run was cancelled \(SIGINT\) Rolled back to release 3 \(3333333\): its set is applied again/,
    );
    // within the runner's 7.5 s before SIGTERM (not asserted as a time: the figure is printed above)
    expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'c' });
    expect(await template('rel-web')).toEqual({ 'rel.example/mode': 'c' });
    expect((await releases()).map((r) => [r.number, r.outcome]).at(-1)).toEqual([5, 'failed']);
  });

  it('a manual rollback restores a whole release and records the restore as a new one', async () => {
    const deployed = await runAction(inputs({ mode: 'f', extraConfigMaps: ['rel-f-only'] }), {
      sha: sha('6'),
    });
    expectRunOk(deployed);
    expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'f' });
    const rollback = (target: string) =>
      runAction(
        {
          ...inputs({ mode: 'unused' }),
          mode: 'rollback',
          environment: 'production',
          'rollback-target': target,
        },
        { event: 'workflow_dispatch', payload: eventFile('workflow_dispatch'), sha: sha('9') },
      );

    const back = await rollback('previous');
    expectRunOk(back);
    expect(back.log).toMatch(/target: release 3 \(commit 3333333/);
    expect(back.log).toMatch(/release 3 \(3333333\) serves again, whole; recorded as release 7/);
    expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'c' });
    expect(await template('rel-web')).toEqual({ 'rel.example/mode': 'c' });
    expect(await template('rel-worker')).toEqual({ 'rel.example/mode': 'c' });
    // what release 3 did not hold is gone
    const fOnly = await configMap('rel-f-only');
    expect(fOnly === undefined || Boolean(fOnly.metadata?.deletionTimestamp)).toBe(true);
    expect(back.summary).toContain("release 6 → release 3's whole set, recorded as release 7");
    expect(back.summary).toContain('Releases before the rollback');
    expect((await releases()).slice(-2).map((r) => [r.number, r.outcome, r.sha])).toEqual([
      [6, 'superseded', sha('6')],
      [7, 'deployed', sha('3')],
    ]);

    // a failed release is no target; the error lists the ones that are, and nothing changes
    const refused = await rollback('4');
    expect(refused.code).toBe(1);
    expect(refused.error).toMatch(
      /hold no deployed release 4; nothing was changed\. Valid targets: previous \(= release 6\), 7 \(git sha 3333333, current\), 6 \(git sha 6666666\)/,
    );
    expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'c' });

    // forward again, by number
    const forward = await rollback('6');
    expectRunOk(forward);
    expect((await configMap('rel-settings'))?.data).toEqual({ MODE: 'f' });
    expect((await configMap('rel-f-only'))?.data).toEqual({ from: 'f' });
  });

  it('prunes a kind that only a release left as it was (rollback-on-failure off) held', async () => {
    // prune lists only the kinds the releases since the last deployed one hold: this one's Secret counts
    const left = await runAction(
      inputs(
        {
          mode: 'g',
          secrets: ['rel-left'],
          workerAnnotations: { 'archetype.local/fail': 'ImagePullBackOff' },
        },
        { 'rollback-on-failure': 'false' },
      ),
      { sha: sha('7') },
    );
    expect(left.code).not.toBe(0);
    expect(left.error).toContain("Automatic rollback is off (input 'rollback-on-failure')");
    expect(await secret('rel-left')).toBeDefined();
    const next = await runAction(inputs({ mode: 'h' }), { sha: sha('8') });
    expectRunOk(next);
    expect(next.log).toMatch(/Secret\/rel-left pruned/);
    const gone = await secret('rel-left');
    expect(gone === undefined || Boolean(gone.metadata?.deletionTimestamp)).toBe(true);
  });
});

const secret = (name: string) => get<V1Secret>(cluster, `/api/v1/namespaces/${namespace}/secrets/${name}`);
