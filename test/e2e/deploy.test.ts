import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { applyRbac, deleteRbac, identity } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// The push deploy end to end, as a runner runs dist/index.js, against the local deploy target: a real
// build pushed to the authenticated registry, applied to the real control plane, tracked to the end.

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-deploy');
const sha = (c: string) => c.repeat(40);
// the production identity of docs/github-setup.md, bound by rbac/deployer.yaml and rbac/production.yaml only
const deployer = identity();
const rbac = { APP: 'archetype', NAMESPACE: namespace, PRODUCTION_PRINCIPAL: deployer.user };
const base = () => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  namespace,
  host: 'archetype.localhost',
});

async function deployment(): Promise<V1Deployment> {
  const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
  if (!d) throw new Error('the Deployment is not in the cluster');
  return d;
}

function image(d: V1Deployment): string {
  return d.spec?.template.spec?.containers[0]?.image ?? '';
}

/** The manifests of k8s/ in a temp folder, changed by edit. */
function manifestsWith(edit: (file: string, text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-'));
  cpSync('k8s', dir, { recursive: true });
  for (const file of ['deployment.yaml', 'service.yaml', 'ingress.yaml'])
    writeFileSync(join(dir, file), edit(file, readFileSync(join(dir, file), 'utf8')));
  return dir;
}

async function registryHas(reference: string): Promise<string | null> {
  const [repoPart, digest] = reference.split('@');
  const [host, ...path] = (repoPart ?? '').split('/');
  const auth = Buffer.from(`${process.env.REGISTRY_USERNAME}:${process.env.REGISTRY_PASSWORD}`).toString(
    'base64',
  );
  const response = await fetch(`http://${host}/v2/${path.join('/')}/manifests/${digest}`, {
    method: 'HEAD',
    headers: {
      Authorization: `Basic ${auth}`,
      Accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return response.ok ? response.headers.get('docker-content-digest') : null;
}

beforeAll(async () => {
  await applyRbac(cluster, 'deployer', rbac);
  await applyRbac(cluster, 'production', rbac);
});

afterAll(async () => {
  await deleteNamespace(cluster, namespace);
  await deleteRbac(cluster, 'production', rbac);
});

describe('deploy (push) against the local target', () => {
  let first = '';

  it('builds, pushes by digest, applies and rolls out the first revision', async () => {
    const run = await runAction(base(), { sha: sha('a') });
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    // the documented roles are enough: nothing refused, every preflight check made
    expect(run.log).not.toMatch(/forbidden|\b403\b|not checked/i);
    // the test file's own repository (localTargetInputs): registry/e2e-<hex>/archetype
    const repository = `${process.env.REGISTRY}/${localTargetInputs()['image-name']}`;
    expect(run.outputs.image).toMatch(/^127\.0\.0\.1:5000\/e2e-[0-9a-f]{6}\/archetype@sha256:[0-9a-f]{64}$/);
    expect(run.outputs.image?.startsWith(`${repository}@`)).toBe(true);
    expect(run.outputs.revision).toBe('1');
    expect(run.outputs.namespace).toBe(namespace);
    expect(run.outputs.url).toBe('http://archetype.localhost/');
    expect(await registryHas(run.outputs.image ?? '')).toBe(run.outputs.digest);
    // the default branch's proven image is latest
    expect(await registryHas(`${repository}@latest`)).toBe(run.outputs.digest);

    const d = await deployment();
    expect(image(d)).toBe(run.outputs.image);
    expect(d.status?.availableReplicas).toBe(2);
    expect(d.metadata?.labels?.['app.kubernetes.io/version']).toBe('aaaaaaa');
    expect(d.metadata?.annotations?.['archetype-deploy.github.io/git-sha']).toBe(sha('a'));
    const ingress = await get<{ spec: { rules: { host: string }[] } }>(
      cluster,
      `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/archetype`,
    );
    expect(ingress?.spec.rules[0]?.host).toBe('archetype.localhost');
    expect(run.summary).toContain('Deployment/archetype: created');
    expect(run.log).toContain('Service/archetype: 2 ready endpoints');
    // where the requests go: each step's count in the job summary, the run's total in the log
    expect(run.summary).toContain('<th>API requests</th>');
    expect(
      Number(/<td>preflight<\/td><td>[\d.]+<\/td><td>(\d+)<\/td>/.exec(run.summary)?.[1]),
    ).toBeGreaterThan(0);
    expect(Number(/API server requests sent by this run: (\d+)/.exec(run.log)?.[1])).toBeGreaterThan(10);
    first = run.outputs.image ?? '';
  });

  it('rolls out a second commit as revision 2, and a redeploy of it changes nothing', async () => {
    const run = await runAction(base(), { sha: sha('b') });
    expect(run.error).toBe('');
    expect(run.outputs.revision).toBe('2');
    expect(run.outputs.image).not.toBe(first);
    expect(image(await deployment())).toBe(run.outputs.image);
    const sets = await get<{ items: V1ReplicaSet[] }>(
      cluster,
      `/apis/apps/v1/namespaces/${namespace}/replicasets`,
    );
    expect(sets?.items.length).toBe(2);

    const again = await runAction(base(), { sha: sha('b') });
    expect(again.error).toBe('');
    expect(again.outputs.revision).toBe('2');
    expect(again.log).toContain('Deployment/archetype unchanged');
  });

  it.each([
    ['ImagePullBackOff', 'c', /cannot pull image/],
    ['CrashLoopBackOff', 'e', /keeps crashing \(Error, exit code 1/],
    ['NotReady', 'f', /never becomes ready; check its readiness probe/],
  ])('detects %s pods and rolls back to revision 2, which still serves', async (failure, commit, reason) => {
    const good = image(await deployment());
    const manifests = manifestsWith((file, text) =>
      file === 'deployment.yaml'
        ? text
            .replace(
              /( {4}metadata:\n {6}labels:)/,
              `    metadata:\n      annotations:\n        archetype.local/fail: ${failure}\n      labels:`,
            )
            .replace(/\n {2}replicas: 2\n/, '\n  replicas: 2\n  progressDeadlineSeconds: 15\n')
        : text,
    );
    const run = await runAction({ ...base(), manifests, 'rollout-timeout': '90s' }, { sha: sha(commit) });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(reason);
    // a rollback makes the restored template the newest revision: 2, then 4, then 6
    expect(run.error).toMatch(
      /Rolled back to release \d+ \([0-9a-f]{7}\): revision \d+'s pods are serving again\.$/,
    );
    const d = await deployment();
    expect(image(d)).toBe(good);
    expect(d.status?.availableReplicas).toBe(2);
    expect(d.spec?.template.metadata?.annotations?.['archetype.local/fail']).toBeUndefined();
    expect(run.summary).toContain('Diagnosis');
  });

  it('applies nothing when a manifest is invalid, naming the file', async () => {
    const fresh = namespaceName('e2e-invalid');
    const manifests = manifestsWith((file, text) =>
      file === 'service.yaml'
        ? text.replace(/(selector:\n\s+)app\.kubernetes\.io\/name: archetype/, '$1app: nothing')
        : text,
    );
    const run = await runAction({ ...base(), namespace: fresh, manifests }, { sha: sha('d') });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /service\.yaml:\d+ Service\/archetype: spec\.selector app=nothing matches no pod template/,
    );
    expect(await get(cluster, `/api/v1/namespaces/${fresh}`)).toBeUndefined();
  });
});
