import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod, scratchContext } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// Workloads besides Deployments, end to end through dist/index.js as the production identity: a StatefulSet
// and a Job in the set are waited for (kstatus rules) with a line per change; a StatefulSet whose new pods
// crash fails the deploy, and the previous release comes back, its broken pod replaced (forced rollback).

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-workloads');
const sha = (c: string) => c.repeat(40);
let deployer: ProductionIdentity;

const buildContext = scratchContext('workloads');

const container = {
  ...restrictedContainer,
  name: 'app',
  image: 'wl-app',
  resources: { requests: { cpu: '10m', memory: '32Mi' } },
};

/** A StatefulSet (behind its headless Service) and a Job; dbAnnotations go on the StatefulSet's pods. */
function manifests(
  mode: string,
  dbAnnotations: Record<string, string> = {},
  extra: ({ kind: string } & Record<string, unknown>)[] = [],
): string {
  const dir = mkdtempSync(join(tmpdir(), 'wl-k8s-'));
  const db = { 'app.kubernetes.io/name': 'wl-db' };
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'wl-db' },
      spec: { clusterIP: 'None', selector: db, ports: [{ name: 'db', port: 5432 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'wl-db' },
      spec: {
        serviceName: 'wl-db',
        replicas: 2,
        selector: { matchLabels: db },
        template: {
          metadata: { labels: db, annotations: { 'wl.example/mode': mode, ...dbAnnotations } },
          spec: { ...restrictedPod, containers: [container] },
        },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'wl-once' },
      spec: {
        backoffLimit: 1,
        template: {
          spec: {
            ...restrictedPod,
            restartPolicy: 'Never',
            // a fixed image: a Job's template is immutable, so it stays the same from deploy to deploy
            containers: [{ ...container, name: 'once', image: '127.0.0.1:5000/tools/once:1' }],
          },
        },
      },
    },
    ...extra,
  ];
  objects.forEach((o, i) => {
    writeFileSync(join(dir, `${i}-${o.kind.toLowerCase()}.yaml`), JSON.stringify(o, null, 2));
  });
  return dir;
}

const inputs = (
  mode: string,
  dbAnnotations?: Record<string, string>,
  extra?: ({ kind: string } & Record<string, unknown>)[],
) => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  'app-name': 'wl-app',
  'image-name': `${namespace}/wl-app`,
  context: buildContext,
  namespace,
  manifests: manifests(mode, dbAnnotations, extra),
  'failure-grace': '3s, 2 restarts',
  'rollout-timeout': '120s',
});

const statefulSet = () =>
  get<V1StatefulSet>(cluster, `/apis/apps/v1/namespaces/${namespace}/statefulsets/wl-db`);

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [namespace], 'wl-app');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

describe('StatefulSets and Jobs', () => {
  it('waits for the StatefulSet to be current and the Job to complete, a line per change', async () => {
    const run = await runAction(inputs('a'), { sha: sha('1') });
    expectRunOk(run);
    expect(run.log).toMatch(/StatefulSet\/wl-db: \d of 2 updated, \d of 2 ready/);
    expect(run.log).toMatch(/StatefulSet\/wl-db rolled out in [\d.]+ s/);
    expect(run.log).toMatch(/Job\/wl-once complete in [\d.]+ s/);
    const s = await statefulSet();
    expect(s?.status?.readyReplicas).toBe(2);
    expect(s?.status?.currentRevision).toBe(s?.status?.updateRevision);
  });

  it('a StatefulSet whose new pod crashes fails the deploy; the previous release comes back, broken pod replaced', async () => {
    const run = await runAction(inputs('b', { 'archetype.local/fail': 'CrashLoopBackOff' }), {
      sha: sha('2'),
    });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /the rollout of StatefulSet\/wl-db failed: StatefulSet\/wl-db: container app in pod wl-db-1: CrashLoopBackOff/,
    );
    expect(run.error).toMatch(/Rolled back to release 1 \(1111111\)/);
    expect(run.log).toMatch(/StatefulSet\/wl-db: deleted wl-db-1, broken pods of the failed release/);
    // every pod on release 1's template again, and Ready
    await eventually(
      'both pods of wl-db on the restored template, ready',
      async () => {
        const pods = await cluster.request<{ items: V1Pod[] }>(
          'GET',
          `/api/v1/namespaces/${namespace}/pods`,
          {
            query: { labelSelector: 'app.kubernetes.io/name=wl-db' },
          },
        );
        const good = pods.items.filter(
          (p) =>
            p.metadata?.annotations?.['wl.example/mode'] === 'a' &&
            !p.metadata?.annotations?.['archetype.local/fail'] &&
            p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return good.length === 2 ? true : undefined;
      },
      60_000,
    );
    const s = await statefulSet();
    expect(s?.spec?.template.metadata?.annotations).toEqual({ 'wl.example/mode': 'a' });
  });

  it('tracks every workload at once: a crashing StatefulSet fails the deploy while a slow Deployment is still rolling out', async () => {
    const web = { 'app.kubernetes.io/name': 'wl-web' };
    const slowWeb = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'wl-web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: web },
        template: {
          // kwok readies its pod after 90 s
          metadata: { labels: web, annotations: { 'archetype.local/ready-after': '90s' } },
          spec: { ...restrictedPod, containers: [{ ...container, image: '127.0.0.1:5000/tools/once:1' }] },
        },
      },
    };
    const run = await runAction(inputs('c', { 'archetype.local/fail': 'CrashLoopBackOff' }, [slowWeb]), {
      sha: sha('3'),
    });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(/the rollout of StatefulSet\/wl-db failed: .*CrashLoopBackOff/);
    // the Deployment was being tracked meanwhile, and its tracking stopped with the failure
    expect(run.log).toMatch(
      /Deployment wl-web revision 1: 0 of 1 updated|Deployment wl-web revision 1: 1 of 1 updated, 0 of 1 available/,
    );
    expect(run.log).not.toMatch(/Deployment\/wl-web revision \d+ rolled out/);
    // restored: release 1 had no wl-web
    expect(run.log).toMatch(/Deployment\/wl-web removed \(not in release 1\)/);
  });

  const cronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'wl-cron' },
    spec: {
      schedule: '0 0 1 1 *',
      jobTemplate: {
        spec: { template: { spec: { ...restrictedPod, restartPolicy: 'Never', containers: [container] } } },
      },
    },
  };
  const cronJobImage = async () =>
    (
      await get<{
        spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } };
      }>(cluster, `/apis/batch/v1/namespaces/${namespace}/cronjobs/wl-cron`)
    )?.spec.jobTemplate.spec.template.spec.containers[0]?.image;

  it("runs a CronJob's jobs on the image just built, as it does every pod template's", async () => {
    const run = await runAction(inputs('d', {}, [cronJob]), { sha: sha('4') });
    expectRunOk(run);
    expect(run.outputs.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(await cronJobImage()).toBe(run.outputs.image);
  });

  it('prunes a CronJob that left the manifests, as every kind it applies', async () => {
    const run = await runAction(inputs('e'), { sha: sha('5') });
    expectRunOk(run);
    expect(await cronJobImage()).toBeUndefined();
  });

  it('a manual rollback to a release tracks its StatefulSet, as the automatic restore does', async () => {
    const run = await runAction(
      { ...inputs('e'), mode: 'rollback', 'rollback-target': 'previous' },
      { sha: sha('5') },
    );
    expectRunOk(run);
    expect(run.log).toMatch(/StatefulSet\/wl-db: \d of 2 updated/);
    // release d's set is back: its CronJob too, on its image
    expect(await cronJobImage()).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect((await statefulSet())?.spec?.template.metadata?.annotations).toEqual({ 'wl.example/mode': 'd' });
  });
});
