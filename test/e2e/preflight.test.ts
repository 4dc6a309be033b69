import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { KubeApiError } from '../../src/kube/client/client.js';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { registryTags } from '../helpers/images.js';
import { bindPod, createTestNode, deleteTestNode, testTaint } from '../helpers/preflight-nodes.js';
import { type ActionRun, localTargetInputs, runAction } from '../helpers/run-action.js';

// Preflight and diagnosis end to end, as a runner runs dist/index.js against the local deploy target: the
// write-up's three pains (an arm64 image for amd64 nodes, a nearly full 1900m node, an ingress class the
// cluster lacks) and a missing pull secret stop the deploy before anything is applied; an unchanged
// redeploy applies nothing; a failing rollout ends in one sentence with what changed. Every run deploys as
// the production identity of docs/github-setup.md (rbac/deployer.yaml + rbac/production.yaml), which may
// read nodes, pods and IngressClasses: every check runs, none is reported "not checked".

jest.setTimeout(300_000);

const cluster = testCluster();
const webapprouting = 'webapprouting.kubernetes.azure.com';
const namespaces: string[] = [];
const nodes: string[] = [];
const sha = (c: string) => c.repeat(40);

/** A build context with no RUN step: buildx builds it for any platform on this amd64 builder. */
function context(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pf-context-'));
  writeFileSync(join(dir, 'hello.txt'), 'preflight\n');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  return dir;
}
const buildContext = context();

interface AppOptions {
  cpu?: string;
  node?: string;
  ingressClass?: string;
  pullSecret?: string;
  annotations?: Record<string, string>;
  env?: Record<string, string>;
}

/** Manifests of a small app (Deployment, Service, Ingress) whose image is the one the action builds. */
function manifests(options: AppOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pf-k8s-'));
  const podSpec = {
    ...(options.node
      ? {
          nodeSelector: { 'kubernetes.io/hostname': options.node },
          tolerations: [{ key: testTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
        }
      : {}),
    ...(options.pullSecret ? { imagePullSecrets: [{ name: options.pullSecret }] } : {}),
    ...restrictedPod,
    containers: [
      {
        ...restrictedContainer,
        name: 'app',
        image: 'pf-app',
        ports: [{ name: 'http', containerPort: 8000 }],
        env: Object.entries(options.env ?? { PORT: '8000' }).map(([name, value]) => ({ name, value })),
        resources: { requests: { cpu: options.cpu ?? '10m', memory: '32Mi' } },
        readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
      },
    ],
  };
  const labels = { 'app.kubernetes.io/name': 'pf-app' };
  const objects = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'pf-app', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels, ...(options.annotations ? { annotations: options.annotations } : {}) },
          spec: podSpec,
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pf-app', labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'pf-app', labels },
      spec: {
        ingressClassName: options.ingressClass ?? webapprouting,
        rules: [
          {
            host: 'pf-app.localhost',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'pf-app', port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      },
    },
  ];
  // JSON is YAML: one document per file
  for (const o of objects)
    writeFileSync(join(dir, `${o.kind.toLowerCase()}.yaml`), JSON.stringify(o, null, 2));
  return dir;
}

let deployer: ProductionIdentity;

/** The inputs of a deploy into namespace, as the production identity (bound there first, as the docs do). */
async function inputs(
  namespace: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  await deployer.bind(namespace);
  return {
    ...localTargetInputs(),
    kubeconfig: deployer.kubeconfig,
    mode: 'deploy',
    'app-name': 'pf-app',
    'image-name': 'pf-app',
    context: buildContext,
    namespace,
    ...extra,
  };
}

function freshNamespace(prefix: string): string {
  const ns = namespaceName(prefix);
  namespaces.push(ns);
  return ns;
}

/** The seconds each step took, from the job summary's Steps table. */
function steps(run: ActionRun): Record<string, number> {
  const table = run.summary.split('<h3>Steps</h3>')[1] ?? '';
  const out: Record<string, number> = {};
  // step, seconds, API requests
  for (const m of table.matchAll(/<tr><td>([^<]+)<\/td><td>([\d.]+)<\/td><td>\d+<\/td><\/tr>/g))
    out[(m[1] ?? '').replace(/&#39;/g, "'")] = Number(m[2]);
  return out;
}

/** Nothing of the app is in the namespace (or the namespace does not exist). */
async function nothingApplied(namespace: string): Promise<void> {
  for (const path of [
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    `/api/v1/namespaces/${namespace}/services`,
    `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
  ]) {
    const list = await get<{ items: unknown[] }>(cluster, path);
    expect(list?.items ?? []).toEqual([]);
  }
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, []);
  // The project's manifests use the AKS add-on's class; the local target provides it (created here when the
  // stack does not yet; never deleted: other tests deploy Ingresses of this class)
  if (!(await get(cluster, `/apis/networking.k8s.io/v1/ingressclasses/${webapprouting}`)))
    await cluster
      .request('POST', '/apis/networking.k8s.io/v1/ingressclasses', {
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'IngressClass',
          metadata: { name: webapprouting },
          spec: { controller: 'webapprouting.kubernetes.azure.com/nginx' },
        },
      })
      .catch((error) => {
        // another run made it meanwhile
        if (!(error instanceof KubeApiError && error.status === 409)) throw error;
      });
});

afterAll(async () => {
  await deployer.remove();
  for (const ns of namespaces) await deleteNamespace(cluster, ns);
  for (const n of nodes) await deleteTestNode(cluster, n);
});

describe('preflight through the action', () => {
  it('stops an arm64-only image bound for amd64 nodes, naming both, and applies nothing', async () => {
    const ns = freshNamespace('e2e-pf-arm');
    // a repository of this run's own, so that its tags are this run's alone
    const run = await runAction(
      await inputs(ns, { manifests: manifests(), platforms: 'linux/arm64', 'image-name': `${ns}/pf-app` }),
      { sha: sha('1') },
    );
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /architecture: Deployment\/pf-app: the image is linux\/arm64 only; the nodes this Deployment can use are amd64 \([^)]*kwok-node-0[^)]*\); build with platforms linux\/amd64 \(input 'platforms'\)/,
    );
    expect(run.error).toContain('nothing was applied');
    await nothingApplied(ns);
    // pushed under its commit, as every build is, and never tagged latest: the rollout never happened
    expect(await registryTags(`${ns}/pf-app`)).toEqual([sha('1')]);
  });

  it("stops a Deployment that fits on no node, with the write-up's figures", async () => {
    const ns = freshNamespace('e2e-pf-full');
    const tenants = freshNamespace('e2e-pf-tenants');
    await cluster.request('POST', '/api/v1/namespaces', { body: { metadata: { name: tenants } } });
    const node = await createTestNode(cluster, 'pf-e2e-small', {
      cpu: '1900m',
      memory: '4652372Ki',
      pods: '30',
    });
    nodes.push(node);
    await bindPod(cluster, tenants, node, '1670m');
    const run = await runAction(await inputs(ns, { manifests: manifests({ node, cpu: '250m' }) }), {
      sha: sha('2'),
    });
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      `capacity: Deployment/pf-app: each pod requests 250m CPU and 32Mi; the most free CPU on any eligible node is 230m (${node}: 1900m allocatable, 1670m requested); lower the requests or add a node`,
    );
    await nothingApplied(ns);
  });

  it('stops an Ingress whose class the cluster lacks, listing the classes it has', async () => {
    const ns = freshNamespace('e2e-pf-class');
    const run = await runAction(
      await inputs(ns, { manifests: manifests({ ingressClass: 'pf-no-such-class' }) }),
      {
        sha: sha('3'),
      },
    );
    expect(run.code).toBe(1);
    expect(run.log).not.toMatch(/not checked|forbidden/i);
    expect(run.error).toMatch(
      new RegExp(
        `ingress class: Ingress/pf-app: spec\\.ingressClassName 'pf-no-such-class' is not an IngressClass in the cluster \\(the cluster has [^)]*${webapprouting.replace(/\./g, '\\.')}`,
      ),
    );
    await nothingApplied(ns);
  });

  it('stops a pull secret that exists nowhere, in a namespace that exists, and applies nothing there', async () => {
    const ns = freshNamespace('e2e-pf-secret');
    const run = await runAction(await inputs(ns, { manifests: manifests({ pullSecret: 'regcred' }) }), {
      sha: sha('4'),
    });
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      `references: Deployment/pf-app: imagePullSecrets names Secret 'regcred', which is neither in namespace '${ns}' nor in the manifests`,
    );
    await nothingApplied(ns);
  });

  it('goes on with warnings under preflight: warn', async () => {
    const ns = freshNamespace('e2e-pf-warn');
    const run = await runAction(
      await inputs(ns, { manifests: manifests({ ingressClass: 'pf-no-such-class' }), preflight: 'warn' }),
      { sha: sha('5') },
    );
    expect(run.error).toBe('');
    expect(run.log).toMatch(
      /::warning::preflight \(ingress class, a warning by input 'preflight: warn'\): Ingress\/pf-app/,
    );
    expect(run.outputs.revision).toBe('1');
  });
});

describe('unchanged redeploy and diagnosis through the action', () => {
  const ns = freshNamespace('e2e-pf-same');
  const app = () => `/apis/apps/v1/namespaces/${ns}/deployments/pf-app`;
  const replicaSets = async () =>
    (await get<{ items: V1ReplicaSet[] }>(cluster, `/apis/apps/v1/namespaces/${ns}/replicasets`))?.items ??
    [];

  it('applies nothing, makes no revision and skips tracking when the set equals what is live', async () => {
    const first = await runAction(await inputs(ns, { manifests: manifests() }), { sha: sha('6') });
    expect(first.error).toBe('');
    expect(first.outputs.revision).toBe('1');

    let started = Date.now();
    const same = await runAction(await inputs(ns, { manifests: manifests() }), { sha: sha('6') });
    const sameWall = Date.now() - started;
    expect(same.error).toBe('');
    expect(same.outputs.revision).toBe('1');
    expect(same.log).toMatch(
      /::notice::unchanged: all 3 objects in namespace '.+' equal what is live and revision 1 is rolled out/,
    );
    expect(await replicaSets()).toHaveLength(1);
    const sameSteps = steps(same);
    expect(Object.keys(sameSteps).filter((s) => /^(apply|prune|rollout)/.test(s))).toEqual([]);

    // the same image with one manifest change: a new revision, applied and tracked
    started = Date.now();
    const changed = await runAction(
      await inputs(ns, { manifests: manifests({ env: { PORT: '8000', MODE: 'b' } }) }),
      {
        sha: sha('6'),
      },
    );
    const changedWall = Date.now() - started;
    expect(changed.error).toBe('');
    expect(changed.outputs.revision).toBe('2');
    const changedSteps = steps(changed);
    expect(Object.keys(changedSteps)).toEqual(
      expect.arrayContaining(['preflight', 'apply', 'rollout of Deployment/pf-app']),
    );
    const total = (s: Record<string, number>) => Object.values(s).reduce((a, b) => a + b, 0);
    // figures, not an assertion (speed is measured, not asserted): what the unchanged path saves
    console.log(
      `unchanged redeploy: ${(sameWall / 1000).toFixed(1)} s wall, ${total(sameSteps).toFixed(1)} s in steps (${JSON.stringify(sameSteps)}); ` +
        `changing redeploy: ${(changedWall / 1000).toFixed(1)} s wall, ${total(changedSteps).toFixed(1)} s in steps (${JSON.stringify(changedSteps)})`,
    );
  });

  it('fails a crash-looping revision after the grace, says what changed and which revision serves, and rolls back', async () => {
    const run = await runAction(
      await inputs(ns, {
        manifests: manifests({
          env: { PORT: '8000', MODE: 'c' },
          annotations: { 'archetype.local/fail': 'CrashLoopBackOff' },
        }),
        'failure-grace': '3s, 2 restarts',
        'rollout-timeout': '90s',
      }),
      { sha: sha('6') },
    );
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /the rollout of Deployment\/pf-app revision 3 failed: container app in pod pf-app-\S+ keeps crashing \(Error, exit code 1, \d+ restarts?\); .*; revision 2 is still serving \(2 of 2 pods ready\)\. Rolled back to release 2 \(6666666\): revision 2's pods are serving again\./,
    );
    expect(run.log).toContain('  what changed from revision 2:');
    expect(run.log).toContain('    pod annotation archetype.local/fail: (none) -> CrashLoopBackOff');
    expect(run.log).toContain('    container app env: MODE -> MODE (changed)');
    expect(run.summary).toContain('What changed from revision 2 to 3:');
    expect(run.summary).toContain('| pod annotation archetype.local/fail | (none) | CrashLoopBackOff |');
    const d = await get<V1Deployment>(cluster, app());
    expect(d?.spec?.template.metadata?.annotations?.['archetype.local/fail']).toBeUndefined();
  });
});
