import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { eventFile, FakeGitHub } from '../fakes/github-server.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { applyRbac, deleteRbac, identity } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// The preview sweep end to end, as a runner runs dist/index.js on a schedule event (payload from
// test/fixtures/events), against the local deploy target: previews made by the action itself, one left
// stale, one whose pull request closed, one fresh; the GitHub REST API served by FakeGitHub.

jest.setTimeout(300_000);

const cluster = testCluster();
const app = namespaceName('sw');
const other = namespaceName('ot');
const token = 'ghs_sweeptesttoken';
const github = new FakeGitHub('local', 'archetype', token);
const head = 'ab'.repeat(20);
// previews and the sweep run as the preview identity of docs/github-setup.md (rbac/preview.yaml), as
// preview.yml and sweep.yml sign in
const previewer = identity();
const rbac = {
  APP: app,
  PREVIEW_PRINCIPAL: previewer.user,
  PREVIEW_DOMAIN: 'preview.localhost',
  INGRESS_NAMESPACE: 'app-routing-system',
  GATEWAY_NAMESPACE: '',
  GATEWAY_NAME: '',
};
const inputs = () => ({
  ...localTargetInputs(),
  kubeconfig: previewer.kubeconfig,
  'app-name': app,
  // the manifests' image placeholder is 'archetype'; the repository is this test's own
  'image-name': `${app}/archetype`,
  namespace: app,
  'preview-domain': 'preview.localhost',
  'github-token': token,
  // the local cluster has no IngressClass for the manifests' webapprouting class; preflight has its own tests
  preflight: 'warn',
});
const env = () => ({ GITHUB_API_URL: github.url });
const namespaceOf = (pr: number) => `${app}-pr-${pr}`;

/** k8s/ with the pods' readiness held back (kwok's stage annotation): a deploy that lasts a while */
function slowManifests(readyAfter: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-slow-'));
  cpSync('k8s', dir, { recursive: true });
  const file = join(dir, 'deployment.yaml');
  const text = readFileSync(file, 'utf8');
  const slow = text.replace(
    /( {4}metadata:\n {6}labels:)/,
    `    metadata:\n      annotations:\n        archetype.local/ready-after: ${readyAfter}\n      labels:`,
  );
  if (slow === text) throw new Error("k8s/deployment.yaml: the pod template's labels are not where expected");
  writeFileSync(file, slow);
  return dir;
}

function openPreview(pr: number, extra: Record<string, string> = {}) {
  const payload = eventFile('pull_request.opened', (p) => {
    p.number = pr;
    if (p.pull_request) {
      p.pull_request.number = pr;
      p.pull_request.head.sha = head;
    }
  });
  return runAction(
    { ...inputs(), ...extra },
    {
      env: env(),
      event: 'pull_request',
      payload,
      sha: 'e'.repeat(40),
      ref: `refs/pull/${pr}/merge`,
    },
  );
}

beforeAll(async () => {
  await github.start();
  for (const file of ['deployer', 'preview']) await applyRbac(cluster, file, rbac);
});

afterAll(async () => {
  await github.stop();
  for (const pr of [21, 22, 23, 24]) await deleteNamespace(cluster, namespaceOf(pr));
  await deleteNamespace(cluster, `${other}-pr-21`);
  for (const file of ['preview', 'deployer']) await deleteRbac(cluster, file, rbac);
});

describe('preview sweep against the local target', () => {
  it('deploys three previews', async () => {
    for (const pr of [21, 22, 23]) {
      github.pulls.set(pr, 'open');
      const run = await openPreview(pr);
      expect(run.error).toBe('');
      expect(run.outputs.namespace).toBe(namespaceOf(pr));
    }
  });

  it('deletes the stale preview and the closed one, keeps the fresh one, and lists them all', async () => {
    // pull request 21 was last deployed 8 days ago; 23 was closed without its teardown running
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString();
    await cluster.request('PATCH', `/api/v1/namespaces/${namespaceOf(21)}`, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'archetype-deploy.github.io/updated-at': eightDaysAgo } } },
    });
    github.pulls.set(23, 'closed');
    // another app's preview of the same pull request number is not this sweep's to judge
    await cluster.request('POST', '/api/v1/namespaces', {
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: `${other}-pr-21`,
          labels: {
            'app.kubernetes.io/managed-by': 'archetype-deploy',
            'app.kubernetes.io/instance': `${other}-pr-21`,
            'archetype-deploy.github.io/pr': '21',
          },
          annotations: { 'archetype-deploy.github.io/updated-at': eightDaysAgo },
        },
      },
    });

    const sweepStart = github.requests.length;
    const run = await runAction(
      { ...inputs(), 'preview-ttl': '7d' },
      { env: env(), event: 'schedule', payload: eventFile('schedule') },
    );
    expect(run.error).toBe('');
    expect(run.code).toBe(0);

    expect(await get(cluster, `/api/v1/namespaces/${namespaceOf(21)}`)).toBeUndefined();
    expect(await get(cluster, `/api/v1/namespaces/${namespaceOf(23)}`)).toBeUndefined();
    expect(await get(cluster, `/api/v1/namespaces/${namespaceOf(22)}`)).toBeDefined();
    expect(
      await get(cluster, `/apis/apps/v1/namespaces/${namespaceOf(22)}/deployments/archetype`),
    ).toBeDefined();
    expect(await get(cluster, `/api/v1/namespaces/${other}-pr-21`)).toBeDefined();

    expect(run.summary).toContain('preview sweep: 2 deleted, 1 kept');
    expect(run.summary).toMatch(
      new RegExp(
        `${namespaceOf(21)}</td><td>#21</td><td>[^<]+</td><td>deleted</td><td>last deployed 8d ago, longer than preview-ttl 7d`,
      ),
    );
    expect(run.summary).toMatch(
      new RegExp(
        `${namespaceOf(22)}</td><td>#22</td><td>[^<]+</td><td>kept</td><td>pull request #22 is open`,
      ),
    );
    expect(run.summary).toMatch(
      new RegExp(
        `${namespaceOf(23)}</td><td>#23</td><td>[^<]+</td><td>deleted</td><td>pull request #23 is closed`,
      ),
    );

    // GitHub: the sweep read each pull request's state; the deleted previews' deployments are inactive
    expect(
      github.requests
        .slice(sweepStart)
        .filter((r) => r.method === 'GET' && /\/pulls\/\d+$/.test(r.path))
        .map((r) => r.path)
        .sort(),
    ).toEqual([21, 22, 23].map((pr) => `/repos/local/archetype/pulls/${pr}`));
    // each list holds the preview's deployments: an empty one would pass a loop of expects, so it is compared whole
    const lastStates = (pr: number) => github.forEnvironment(`pr-${pr}`).map((d) => d.statuses.at(-1)?.state);
    for (const pr of [21, 23]) {
      expect(lastStates(pr).length).toBeGreaterThan(0);
      expect(lastStates(pr)).toEqual(lastStates(pr).map(() => 'inactive'));
    }
    expect(lastStates(22).length).toBeGreaterThan(0);
    expect(lastStates(22)).toEqual(lastStates(22).map(() => 'success'));
    const comment23 = github.comments.find((c) => c.issue === 23);
    expect(comment23?.body).toContain(`namespace ${namespaceOf(23)} deleted: pull request #23 is closed`);
  });

  it('judges by age alone without a github-token', async () => {
    // a dispatch routes to rollback by default; mode sweep overrides it
    const swept = await runAction(
      { ...inputs(), mode: 'sweep', 'github-token': '', 'preview-ttl': '1s' },
      { env: env(), event: 'workflow_dispatch', payload: eventFile('workflow_dispatch') },
    );
    expect(swept.error).toBe('');
    expect(swept.log).toContain(
      "no github-token: previews are judged by their age alone (input 'preview-ttl')",
    );
    expect(swept.summary).toContain('preview sweep: 1 deleted, 0 kept');
    expect(await get(cluster, `/api/v1/namespaces/${namespaceOf(22)}`)).toBeUndefined();
  });

  it('a sweep started during a preview deploy waits for it, then deletes the preview', async () => {
    github.pulls.set(24, 'open');
    const lease = `/apis/coordination.k8s.io/v1/namespaces/${namespaceOf(24)}/leases/${namespaceOf(24)}-deploy-lock`;
    const deploying = openPreview(24, { manifests: slowManifests('15s') });
    // the deploy holds its environment's lock while it applies and waits for its pods
    await eventually(
      'the preview deploy holding its lock',
      async () => (await get<{ spec?: { holderIdentity?: string } }>(cluster, lease))?.spec?.holderIdentity,
      120_000,
    );
    github.pulls.set(24, 'closed');
    const swept = await runAction(
      { ...inputs(), 'preview-ttl': '7d' },
      { env: env(), event: 'schedule', payload: eventFile('schedule') },
    );
    const deploy = await deploying;
    expect(deploy.error).toBe('');
    expect(swept.error).toBe('');
    expect(swept.log).toMatch(/waiting for the deploy lock of namespace '.*-pr-24'.*another run holds it/);
    expect(swept.log).toMatch(/got the deploy lock of namespace '.*-pr-24' .*after \d+ s/);
    expect(swept.summary).toMatch(new RegExp(`${namespaceOf(24)}</td><td>#24</td><td>[^<]+</td><td>deleted`));
    expect(await get(cluster, `/api/v1/namespaces/${namespaceOf(24)}`)).toBeUndefined();
  });
});
