import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { KubernetesObject, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// The first run over objects a user made by hand, the write-up's way, with a real kubectl of the cluster's
// version (built from its Go module by scripts/local-stack, $KUBECTL): kubectl's own field managers are taken
// over and named, an autoscaler keeps its scale across deploys, another tool's field still stops the deploy,
// and nothing the action never applied is pruned. Through dist/index.js, as the production identity.

jest.setTimeout(300_000);

const cluster = testCluster();
const byApply = namespaceName('e2e-adopt');
const byHand = namespaceName('e2e-adopt-edit');
const sha = (c: string) => c.repeat(40);
const folders: string[] = [];
let deployer: ProductionIdentity;

/** kubectl as the user runs it, as the cluster admin; resolves with its output, rejects with its stderr. */
function kubectl(args: string[], env: Record<string, string> = {}): Promise<string> {
  const bin = process.env.KUBECTL;
  if (!bin) throw new Error('KUBECTL is not set: eval "$(scripts/local-stack env)" (scripts/test does it)');
  return new Promise((resolve, reject) =>
    execFile(bin, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    ),
  );
}

const inputs = (namespace: string, manifests = 'k8s') => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  namespace,
  host: `${namespace}.localhost`,
  manifests,
  // the local cluster has no IngressClass for the manifests' webapprouting class; preflight has its own tests
  preflight: 'warn',
});

const deployment = (namespace: string) =>
  get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);

/** k8s/ and more objects, in a folder of its own. */
function manifestsWith(objects: Record<string, unknown>[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-adopt-'));
  folders.push(dir);
  cpSync('k8s', dir, { recursive: true });
  writeFileSync(join(dir, 'extra.yaml'), objects.map((o) => JSON.stringify(o)).join('\n---\n'));
  return dir;
}

beforeAll(async () => {
  deployer = await productionIdentity(cluster, [byApply, byHand]);
});

afterAll(async () => {
  await deployer?.remove();
  for (const ns of [byApply, byHand]) await deleteNamespace(cluster, ns);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('adopting what was made by hand with kubectl', () => {
  it('kubectl apply (client-side), then the first deploy: takes over what kubectl owned and names it', async () => {
    await kubectl(['apply', '-n', byApply, '-f', 'k8s/']);
    const run = await runAction(inputs(byApply), { sha: sha('1') });
    expect(run.error).toBe('');
    expect(run.log).toContain(
      'taken over from kubectl (objects made or changed by hand): Deployment/archetype .spec.template.spec.containers[name="archetype"].image (kubectl-client-side-apply)',
    );
    const d = await deployment(byApply);
    expect(d?.spec?.template.spec?.containers[0]?.image).toBe(run.outputs.image);
    // adopted: labelled as the action's, and kubectl's record of the files kept for kubectl
    expect(d?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('archetype-deploy');
    expect(d?.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      '"image":"archetype"',
    );
  });

  it('a later kubectl apply of the same files works without conflict and keeps what the action added', async () => {
    const out = await kubectl(['apply', '-n', byApply, '-f', 'k8s/']);
    // the Service is as the files have it; the Ingress's host and the image are the action's (input 'host',
    // the build), which the files' values replace, as kubectl apply always does
    expect(out).toMatch(/service\/archetype unchanged/);
    const d = await deployment(byApply);
    // the action's labels and annotations are not in the files: a client-side apply keeps them
    expect(d?.metadata?.labels?.['app.kubernetes.io/instance']).toBe('archetype');
    expect(d?.metadata?.annotations?.['archetype-deploy.github.io/git-sha']).toBe(sha('1'));
    // the files' own values win, as kubectl apply always makes them (the image placeholder): the next
    // deploy takes the image back, and says so
    const run = await runAction(inputs(byApply), { sha: sha('2') });
    expect(run.error).toBe('');
    expect(run.log).toMatch(/taken over from kubectl .*\.image \(kubectl-client-side-apply\)/);
  });

  it('kubectl create, set image, edit and scale, then the action: takes them over; the manifests win replicas, with a notice', async () => {
    await kubectl(['create', '-n', byHand, '-f', 'k8s/deployment.yaml']);
    await kubectl([
      'set',
      'image',
      '-n',
      byHand,
      'deployment/archetype',
      'archetype=127.0.0.1:5000/by-hand:1',
    ]);
    await kubectl(['edit', '-n', byHand, 'deployment/archetype'], {
      // a non-interactive editor: what a user types, as sed
      KUBE_EDITOR: 'sed -i s/revisionHistoryLimit:\\ 5/revisionHistoryLimit:\\ 7/',
    });
    await kubectl(['scale', '-n', byHand, 'deployment/archetype', '--replicas=5']);
    const run = await runAction(inputs(byHand), { sha: sha('3') });
    expect(run.error).toBe('');
    expect(run.log).toMatch(/taken over from kubectl .*\.spec\.revisionHistoryLimit \(kubectl-edit\)/);
    expect(run.log).toMatch(/taken over from kubectl .*\.image \(kubectl-set\)/);
    // kubectl scale writes through the scale subresource as manager "kubectl"
    expect(run.log).toMatch(/taken over from kubectl .*\.spec\.replicas \(kubectl\)/);
    expect(run.log).toContain(
      "::notice::Deployment/archetype: spec.replicas is the manifests' again (it was 5, set by kubectl)",
    );
    const d = await deployment(byHand);
    expect(d?.spec?.replicas).toBe(2);
    expect(d?.spec?.revisionHistoryLimit).toBe(5);
  });

  it('kubectl set env, label and annotate, then a rerun of the same commit: the live Deployment is the manifests again', async () => {
    await kubectl(['set', 'env', '-n', byHand, 'deployment/archetype', 'HAND_EDIT=1']);
    await kubectl(['label', '-n', byHand, 'deployment/archetype', 'hand=1']);
    await kubectl(['annotate', '-n', byHand, 'deployment/archetype', 'hand.example/note=1']);
    const edited = await deployment(byHand);
    expect(edited?.spec?.template.spec?.containers[0]?.env?.map((e) => e.name)).toContain('HAND_EDIT');
    // the same commit as the last deploy: what the cluster holds differs only by the hand edits
    const run = await runAction(inputs(byHand), { sha: sha('3') });
    expect(run.error).toBe('');
    expect(run.log).toMatch(/taken over from kubectl .*env\[name="HAND_EDIT"\] \(kubectl-set, removed\)/);
    expect(run.log).toMatch(/taken over from kubectl .*\(kubectl-label, removed\)/);
    expect(run.log).toMatch(/taken over from kubectl .*\(kubectl-annotate, removed\)/);
    const d = await deployment(byHand);
    expect(d?.spec?.template.spec?.containers[0]?.env?.map((e) => e.name) ?? []).not.toContain('HAND_EDIT');
    expect(d?.metadata?.labels?.hand).toBeUndefined();
    expect(d?.metadata?.annotations?.['hand.example/note']).toBeUndefined();
  });

  it('an unlabelled object, and one labelled like the action by hand, are never pruned', async () => {
    const labels = {
      'app.kubernetes.io/managed-by': 'archetype-deploy',
      'app.kubernetes.io/instance': 'archetype',
    };
    const made = (name: string, withLabels: boolean): V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, ...(withLabels ? { labels } : {}) },
      data: { by: 'hand' },
    });
    const dir = mkdtempSync(join(tmpdir(), 'by-hand-'));
    folders.push(dir);
    writeFileSync(join(dir, 'plain.json'), JSON.stringify(made('hand-plain', false)));
    writeFileSync(join(dir, 'lookalike.json'), JSON.stringify(made('hand-lookalike', true)));
    await kubectl(['create', '-n', byHand, '-f', dir]);
    const run = await runAction(inputs(byHand), { sha: sha('4') });
    expect(run.error).toBe('');
    for (const name of ['hand-plain', 'hand-lookalike'])
      expect(await get(cluster, `/api/v1/namespaces/${byHand}/configmaps/${name}`)).toBeDefined();
  });

  it('an autoscaler keeps its scale: two deploys in a row leave the 3 replicas it set', async () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'archetype' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'archetype' },
        minReplicas: 3,
        maxReplicas: 6,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
        ],
      },
    };
    const withHpa = manifestsWith([hpa]);
    const first = await runAction(inputs(byHand, withHpa), { sha: sha('5') });
    expect(first.error).toBe('');
    expect(first.log).toContain(
      "Deployment/archetype: spec.replicas is left to HorizontalPodAutoscaler/archetype (now 2); the manifests' replicas are not applied",
    );
    expect(first.log).toContain('Deployment/archetype: spec.replicas (2) handed over to its autoscaler');
    // the autoscaler's controller raises the Deployment to its minimum (no metrics needed for that)
    await eventually(
      'the autoscaler to scale to 3',
      async () => ((await deployment(byHand))?.spec?.replicas === 3 ? true : undefined),
      60_000,
    );
    for (const c of ['6', '7']) {
      const run = await runAction(inputs(byHand, withHpa), { sha: sha(c) });
      expect(run.error).toBe('');
      expect(run.log).toContain('spec.replicas is left to HorizontalPodAutoscaler/archetype (now 3)');
      expect((await deployment(byHand))?.spec?.replicas).toBe(3);
    }
  });

  it('a field another tool owns still stops the deploy with the clear error, nothing applied', async () => {
    const path = `/apis/apps/v1/namespaces/${byHand}/deployments/archetype`;
    const before = await deployment(byHand);
    await cluster.request<KubernetesObject>('PATCH', path, {
      query: { fieldManager: 'other-tool', force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'archetype' },
        spec: {
          template: { spec: { containers: [{ name: 'archetype', image: '127.0.0.1:5000/other-tool:1' }] } },
        },
      },
    });
    const run = await runAction(inputs(byHand), { sha: sha('8') });
    expect(run.code).toBe(1);
    expect(run.error).toContain('owned by "other-tool"');
    expect(run.error).toContain("Set input 'force-conflicts' to true to take them over");
    expect(run.error).toContain('nothing was applied');
    const after = await deployment(byHand);
    expect(after?.spec?.template.spec?.containers[0]?.image).toBe('127.0.0.1:5000/other-tool:1');
    expect(after?.metadata?.annotations?.['archetype-deploy.github.io/git-sha']).toBe(
      before?.metadata?.annotations?.['archetype-deploy.github.io/git-sha'],
    );
  });
});
