import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { eventFile, FakeGitHub } from '../fakes/github-server.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { applyRbac, deleteRbac, identity } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// The manual rollback end to end, as a runner runs dist/index.js on workflow_dispatch (payload from
// test/fixtures/events), against the local deploy target: three real deploys (releases 1-3), then rollbacks
// to previous, to a release number, to an image tag resolved in the registry and to a git sha, and one to a
// release that does not exist. Each restore is recorded as a new release. The GitHub REST API is served by
// FakeGitHub.

jest.setTimeout(300_000);

const cluster = testCluster();
const app = namespaceName('rb');
const token = 'ghs_rollbacktesttoken';
const github = new FakeGitHub('local', 'archetype', token);
const sha = (c: string) => c.repeat(40);
// deploys and rollbacks run as the production identity of docs/github-setup.md, as deploy.yml and
// rollback.yml sign in, bound only by rbac/deployer.yaml and rbac/production.yaml
const deployer = identity();
const rbac = { APP: app, NAMESPACE: app, PRODUCTION_PRINCIPAL: deployer.user };
const base = () => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  'app-name': app,
  // the manifests' image placeholder is 'archetype'; the repository is this test's own
  'image-name': `${app}/archetype`,
  namespace: app,
  host: `${app}.localhost`,
  // the local cluster has no IngressClass for the manifests' webapprouting class; preflight has its own tests
  preflight: 'warn',
});
const env = () => ({ GITHUB_API_URL: github.url });
const deployCommit = (c: string) =>
  runAction(base(), { env: env(), event: 'push', payload: eventFile('push'), sha: sha(c) });
const rollback = (target: string, inputs: Record<string, string> = {}) =>
  runAction(
    { ...base(), 'github-token': token, environment: 'production', 'rollback-target': target, ...inputs },
    { env: env(), event: 'workflow_dispatch', payload: eventFile('workflow_dispatch'), sha: sha('f') },
  );

async function deployment(): Promise<V1Deployment> {
  const d = await get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${app}/deployments/archetype`);
  if (!d) throw new Error('the Deployment is not in the cluster');
  return d;
}
const image = (d: V1Deployment) => d.spec?.template.spec?.containers[0]?.image ?? '';
const revision = (d: V1Deployment) => d.metadata?.annotations?.['deployment.kubernetes.io/revision'];

beforeAll(async () => {
  await github.start();
  for (const file of ['deployer', 'production']) await applyRbac(cluster, file, rbac);
});

afterAll(async () => {
  await github.stop();
  await deleteNamespace(cluster, app);
  for (const file of ['production', 'deployer']) await deleteRbac(cluster, file, rbac);
});

describe('rollback (workflow_dispatch) against the local target', () => {
  const images: Record<string, string> = {};

  it('deploys three commits as revisions 1, 2 and 3', async () => {
    for (const c of ['a', 'b', 'c']) {
      const run = await deployCommit(c);
      expect(run.error).toBe('');
      images[c] = run.outputs.image ?? '';
    }
    const d = await deployment();
    expect(revision(d)).toBe('3');
    expect(image(d)).toBe(images.c);
    expect(new Set(Object.values(images)).size).toBe(3);
  });

  it('rolls back to the previous release, lists the releases, and records a GitHub deployment', async () => {
    const run = await rollback('previous');
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    const d = await deployment();
    expect(image(d)).toBe(images.b);
    expect(d.status?.availableReplicas).toBe(2);
    expect(revision(d)).toBe('4');
    expect(d.metadata?.annotations?.['archetype-deploy.github.io/git-sha']).toBe(sha('b'));
    expect(run.outputs.image).toBe(images.b);
    expect(run.outputs.revision).toBe('4');
    expect(run.outputs.url).toBe(`http://${app}.localhost/`);

    expect(run.summary).toContain('Releases before the rollback');
    for (const c of ['a', 'b', 'c']) expect(run.summary).toContain(images[c]);
    expect(run.summary).toContain('3 (current)');
    expect(run.summary).toContain('2 ← target');
    expect(run.summary).toContain("release 3 → release 2's whole set, recorded as release 4");

    const rollbacks = github
      .forEnvironment('production')
      .filter((x) => x.description?.startsWith('rollback'));
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]?.ref).toBe(sha('b'));
    expect(rollbacks[0]?.description).toBe('rollback to release 2');
    expect(rollbacks[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(rollbacks[0]?.statuses[1]?.environment_url).toBe(`http://${app}.localhost/`);
  });

  it('rolls back to a release by its number', async () => {
    const run = await rollback('1');
    expect(run.error).toBe('');
    const d = await deployment();
    expect(image(d)).toBe(images.a);
    expect(revision(d)).toBe('5');
    expect(d.status?.availableReplicas).toBe(2);
  });

  it('changes nothing for a release that does not exist, and names the valid ones', async () => {
    const before = await deployment();
    const deploymentsBefore = github.deployments.length;
    const run = await rollback('99');
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      `the releases of production in namespace '${app}' hold no deployed release 99`,
    );
    expect(run.error).toContain('nothing was changed');
    expect(run.error).toMatch(
      /Valid targets: previous \(= release 4\), 5 \(git sha aaaaaaa, current\), 4 \(git sha bbbbbbb\), 3 \(git sha ccccccc\)/,
    );
    expect(run.summary).toContain('Releases before the rollback');
    const after = await deployment();
    expect(image(after)).toBe(image(before));
    expect(revision(after)).toBe(revision(before));
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(github.deployments.length).toBe(deploymentsBefore);
  });

  it('resolves an image tag through the registry to the release of that digest', async () => {
    // 'latest' is the tag of the last deploy from the default branch: commit c
    const run = await rollback('latest');
    expect(run.error).toBe('');
    expect(run.log).toContain(`look up 127.0.0.1:5000/${app}/archetype:latest`);
    expect(image(await deployment())).toBe(images.c);
  });

  it('resolves a git sha to its newest release, and runs without a github-token', async () => {
    const requestsBefore = github.requests.length;
    const run = await rollback('bbbbbbb', { 'github-token': '' });
    expect(run.error).toBe('');
    expect(run.log).toContain(
      "input 'github-token' is empty: no GitHub deployments or pull request comments",
    );
    expect(image(await deployment())).toBe(images.b);
    expect(github.requests.length).toBe(requestsBefore);
  });

  it('fails for a tag the registry does not have, changing nothing', async () => {
    const before = await deployment();
    const run = await rollback('v9.9.9');
    expect(run.code).toBe(1);
    expect(run.error).toContain(`the registry has no image 127.0.0.1:5000/${app}/archetype:v9.9.9`);
    expect(revision(await deployment())).toBe(revision(before));
  });

  it("tracks a rollback by revision with the input 'failure-grace', and says each thing once", async () => {
    // a namespace deployed before releases were recorded (no release Secrets), whose history holds a
    // revision that cannot pull, made by hand: an operator's edits, done as the cluster admin
    await cluster.request('DELETE', `/api/v1/namespaces/${app}/secrets`, {
      query: { labelSelector: `archetype-deploy.github.io/release-of=${app}` },
    });
    const path = `/apis/apps/v1/namespaces/${app}/deployments/archetype`;
    const annotate = (value: string | null) =>
      cluster.request('PATCH', path, {
        contentType: 'application/merge-patch+json',
        body: { spec: { template: { metadata: { annotations: { 'archetype.local/fail': value } } } } },
      });
    await annotate('ImagePullBackOff');
    // the controller numbers the revision once it has seen the change
    const bad = await eventually('the bad revision numbered', async () => {
      const d = await deployment();
      return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) ? revision(d) : undefined;
    });
    await annotate(null);
    await eventually('the hand-made good revision to be available', async () => {
      const d = await deployment();
      return d.status?.updatedReplicas === 2 &&
        d.status?.availableReplicas === 2 &&
        !d.status?.unavailableReplicas
        ? true
        : undefined;
    });
    const run = await rollback(String(bad), { 'failure-grace': '2s, 2 restarts' });
    expect(run.code).toBe(1);
    expect(run.log).toMatch(/ImagePullBackOff.*; waiting up to 2s for it to recover/);
    expect(run.error).toMatch(
      new RegExp(
        `^the rollback of Deployment/archetype to revision ${bad} did not roll out: Deployment archetype revision \\d+ failed: pod archetype-\\S+ cannot pull image`,
      ),
    );
    expect(run.error).not.toMatch(/failed: Deployment archetype revision \d+ failed/);
  });
});
