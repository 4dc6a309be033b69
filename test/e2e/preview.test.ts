import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { KubeApiError } from '../../src/kube/client/client.js';
import { eventFile, FakeGitHub } from '../fakes/github-server.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { applyRbac, deleteRbac, identity } from '../helpers/identities.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// Pull request previews end to end, as a runner runs dist/index.js on pull_request events (payloads from
// test/fixtures/events), against the local deploy target, with the GitHub REST API served by FakeGitHub.

jest.setTimeout(300_000);

const cluster = testCluster();
const app = namespaceName('pv');
const preview = `${app}-pr-7`;
const token = 'ghs_previewtesttoken';
const github = new FakeGitHub('local', 'archetype', token);
const sha = (c: string) => c.repeat(40);
const headSha = (pair: string) => pair.repeat(20);
// the two identities of docs/github-setup.md, bound only by the repository's rbac/*.yaml
const production = identity();
const previewer = identity();
const rbac = {
  APP: app,
  NAMESPACE: app,
  PRODUCTION_PRINCIPAL: production.user,
  PREVIEW_PRINCIPAL: previewer.user,
  PREVIEW_DOMAIN: 'preview.localhost',
  INGRESS_NAMESPACE: 'app-routing-system',
  GATEWAY_NAMESPACE: '',
  GATEWAY_NAME: '',
};
const inputs = (as = previewer) => ({
  ...localTargetInputs(),
  kubeconfig: as.kubeconfig,
  'app-name': app,
  // the manifests' image placeholder is 'archetype'; the repository is this test's own
  'image-name': `${app}/archetype`,
  namespace: app,
  host: `${app}.localhost`,
  'preview-domain': 'preview.localhost',
  'github-token': token,
  // the local cluster has no IngressClass for the manifests' webapprouting class; preflight has its own tests
  preflight: 'warn',
});
// @actions/github's octokit takes the API's address from GITHUB_API_URL, as on GitHub Enterprise Server
const env = () => ({ GITHUB_API_URL: github.url });
const pullRequest = (fixture: string) => ({
  env: env(),
  event: 'pull_request',
  payload: eventFile(fixture),
  sha: sha('e'),
  ref: 'refs/pull/7/merge',
});

/** Pull request 9 opened with the given manifests folder. */
const openPullRequest9 = (manifests: string, extraEnv: Record<string, string> = {}) =>
  runAction(
    { ...inputs(), manifests },
    {
      ...pullRequest('pull_request.opened'),
      env: { ...env(), ...extraEnv },
      payload: eventFile('pull_request.opened', (p) => {
        if (p.pull_request) p.pull_request.number = 9;
        p.number = 9;
      }),
    },
  );

async function deploymentIn(namespace: string): Promise<V1Deployment | undefined> {
  return get<V1Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`);
}
const imageOf = (d: V1Deployment | undefined) => d?.spec?.template.spec?.containers[0]?.image ?? '';
const stickyComments = () => github.comments.filter((c) => c.issue === 7 && c.user.type === 'Bot');

beforeAll(async () => {
  await github.start();
  github.pulls.set(7, 'open');
  github.pulls.set(9, 'open');
  for (const file of ['deployer', 'production', 'preview']) await applyRbac(cluster, file, rbac);
});

afterAll(async () => {
  await github.stop();
  for (const ns of [app, preview, `${app}-pr-8`, `${app}-pr-9`]) await deleteNamespace(cluster, ns);
  for (const file of ['preview', 'production', 'deployer']) await deleteRbac(cluster, file, rbac);
});

describe('pull request previews against the local target', () => {
  let productionImage = '';
  let firstPreview = '';

  it('deploys production first, as a GitHub deployment to production', async () => {
    const run = await runAction(inputs(production), {
      env: env(),
      event: 'push',
      payload: eventFile('push'),
      sha: sha('a'),
    });
    expect(run.error).toBe('');
    expect(run.outputs.revision).toBe('1');
    productionImage = run.outputs.image ?? '';
    const [deployment] = github.forEnvironment('production');
    expect(deployment?.ref).toBe(sha('a'));
    expect(deployment?.production_environment).toBe(true);
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment?.statuses[1]?.environment_url).toBe(`http://${app}.localhost/`);
    expect(github.made('POST', /\/issues\/\d+\/comments$/)).toHaveLength(0);
  });

  it('deploys pull request 7 into its own namespace and host, without touching production', async () => {
    github.addComment(7, 'Looks good to me');
    // someone else's comment with the marker is theirs: it is neither edited nor taken for the sticky one
    github.addComment(7, `<!-- archetype-deploy:${app} -->\nnot the action's`, 'mallory');
    const run = await runAction(inputs(), pullRequest('pull_request.opened'));
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs.namespace).toBe(preview);
    expect(run.outputs.url).toBe('http://pr-7.preview.localhost/');
    expect(run.outputs.revision).toBe('1');
    // the preview identity bound itself to the deployer role in the namespace it made, and only there
    expect(run.log).toContain(`${previewer.user} bound to ClusterRole ${app}-deployer in ${preview}`);
    firstPreview = run.outputs.image ?? '';

    const d = await deploymentIn(preview);
    expect(imageOf(d)).toBe(run.outputs.image);
    expect(d?.spec?.replicas).toBe(1);
    expect(d?.status?.availableReplicas).toBe(1);
    expect(d?.metadata?.labels?.['archetype-deploy.github.io/pr']).toBe('7');
    expect(d?.metadata?.labels?.['app.kubernetes.io/instance']).toBe(preview);
    expect(d?.metadata?.annotations?.['archetype-deploy.github.io/git-sha']).toBe(headSha('7a'));
    const ingress = await get<{ spec: { rules: { host: string }[] } }>(
      cluster,
      `/apis/networking.k8s.io/v1/namespaces/${preview}/ingresses/archetype`,
    );
    expect(ingress?.spec.rules[0]?.host).toBe('pr-7.preview.localhost');
    const ns = await get<{
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    }>(cluster, `/api/v1/namespaces/${preview}`);
    expect(ns?.metadata.labels['archetype-deploy.github.io/pr']).toBe('7');
    expect(ns?.metadata.labels['app.kubernetes.io/managed-by']).toBe('archetype-deploy');
    expect(ns?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns?.metadata.labels['pod-security.kubernetes.io/warn']).toBe('restricted');
    const policy = await get<{ spec: Record<string, unknown> }>(
      cluster,
      `/apis/networking.k8s.io/v1/namespaces/${preview}/networkpolicies/archetype-deploy-preview-default-deny`,
    );
    expect(policy?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy?.spec.podSelector).toEqual({});
    // egress only to DNS in kube-system and to the preview's own pods: no ipBlock, so no metadata endpoint
    expect(JSON.stringify(policy?.spec.egress)).not.toContain('ipBlock');
    expect(JSON.stringify(policy?.spec.ingress)).toContain('app-routing-system');
    expect(
      Date.parse(ns?.metadata.annotations['archetype-deploy.github.io/updated-at'] ?? ''),
    ).toBeGreaterThan(Date.now() - 300_000);

    // production is as it was
    const prod = await deploymentIn(app);
    expect(imageOf(prod)).toBe(productionImage);
    expect(prod?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    // the GitHub side: a deployment to pr-7 at the head commit, and one sticky comment
    const [deployment] = github.forEnvironment('pr-7');
    expect(deployment?.ref).toBe(headSha('7a'));
    expect(deployment?.transient_environment).toBe(true);
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment?.statuses[1]?.environment_url).toBe('http://pr-7.preview.localhost/');
    expect(deployment?.statuses[1]?.log_url).toBe('https://github.com/local/archetype/actions/runs/1');
    const created = github.made('POST', '/repos/local/archetype/issues/7/comments');
    expect(created).toHaveLength(1);
    const [comment] = stickyComments();
    expect(comment?.body.startsWith(`<!-- archetype-deploy:${app} -->`)).toBe(true);
    expect(comment?.body).toContain('http://pr-7.preview.localhost/');
    expect(comment?.body).toContain(run.outputs.digest);
    expect(comment?.body).toMatch(/\| Revision \| 1 \|/);
    expect(comment?.body).toMatch(/\| Status \| deployed \|/);

    // nothing the pull request's author controls went anywhere
    expect(comment?.body).not.toContain('$(');
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('updates the preview in place on a second push: revision 2, the same comment edited', async () => {
    const before = imageOf(await deploymentIn(preview));
    const run = await runAction(inputs(), pullRequest('pull_request.synchronize'));
    expect(run.error).toBe('');
    expect(run.outputs.namespace).toBe(preview);
    expect(run.outputs.revision).toBe('2');
    expect(run.outputs.image).not.toBe(before);
    expect(imageOf(await deploymentIn(preview))).toBe(run.outputs.image);
    expect(imageOf(await deploymentIn(app))).toBe(productionImage);

    const deployments = github.forEnvironment('pr-7');
    expect(deployments).toHaveLength(2);
    expect(deployments[1]?.ref).toBe(headSha('7b'));
    expect(deployments[1]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);

    expect(github.made('POST', '/repos/local/archetype/issues/7/comments')).toHaveLength(1);
    expect(github.made('PATCH', /\/issues\/comments\/\d+$/)).toHaveLength(1);
    expect(stickyComments()).toHaveLength(1);
    const [comment] = stickyComments();
    expect(comment?.body).toMatch(/\| Revision \| 2 \|/);
    expect(comment?.body).toContain(run.outputs.digest);
    // the reviewer's comment is untouched, and so is the one that copied the marker
    expect(github.comments.find((c) => c.user.login === 'octocat')?.body).toBe('Looks good to me');
    expect(github.comments.find((c) => c.user.login === 'mallory')?.body).toBe(
      `<!-- archetype-deploy:${app} -->\nnot the action's`,
    );
  });

  it('rolls the preview back to its previous release from a dispatch, and says so in the comment', async () => {
    const run = await runAction(
      { ...inputs(), environment: '7', 'rollback-target': 'previous' },
      { env: env(), event: 'workflow_dispatch', payload: eventFile('workflow_dispatch'), sha: sha('f') },
    );
    expect(run.error).toBe('');
    expect(run.outputs.namespace).toBe(preview);
    expect(run.outputs.revision).toBe('3');
    const d = await deploymentIn(preview);
    expect(d?.metadata?.annotations?.['archetype-deploy.github.io/git-sha']).toBe(headSha('7a'));
    expect(imageOf(d)).toBe(firstPreview);
    expect(imageOf(await deploymentIn(app))).toBe(productionImage);

    const rollbacks = github.forEnvironment('pr-7').filter((x) => x.description === 'rollback to release 1');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]?.ref).toBe(headSha('7a'));
    expect(rollbacks[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(stickyComments()).toHaveLength(1);
    expect(stickyComments()[0]?.body).toMatch(/\| Status \| rolled back \|/);
    expect(stickyComments()[0]?.body).toContain('rollback to release 1: revision 3 is serving');
  });

  it("keeps the preview identity out of production's namespace: no read, no write, no binding", async () => {
    const forbidden = async (what: string, request: () => Promise<unknown>, by = /forbidden/i) => {
      const error = await request().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect([what, error instanceof KubeApiError ? error.status : String(error)]).toEqual([what, 403]);
      expect(error instanceof KubeApiError ? error.serverMessage : '').toMatch(by);
    };
    // refused by the admission policy (rbac/preview.yaml), where RBAC alone would let it through
    const policy =
      /ValidatingAdmissionPolicy .* denied request: the preview identity writes only in namespaces named/;
    const c = previewer.cluster;
    await forbidden('read its Deployments', () =>
      c.request('GET', `/apis/apps/v1/namespaces/${app}/deployments`),
    );
    await forbidden('read its Secrets', () => c.request('GET', `/api/v1/namespaces/${app}/secrets`));
    await forbidden('write a ConfigMap', () =>
      c.request('POST', `/api/v1/namespaces/${app}/configmaps`, {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      }),
    );
    // RBAC would let it bind; the admission policy refuses it outside <app>-pr-<n>
    await forbidden(
      'bind itself there',
      () =>
        c.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${app}/rolebindings`, {
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'x' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${app}-deployer` },
            subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: previewer.user }],
          },
        }),
      policy,
    );
    await forbidden('delete the namespace', () => c.request('DELETE', `/api/v1/namespaces/${app}`), policy);
    await forbidden(
      'make a namespace not named like a preview',
      () =>
        c.request('POST', '/api/v1/namespaces', {
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${app}-other` } },
        }),
      policy,
    );
    await forbidden(
      'make a preview namespace without Pod Security',
      () =>
        c.request('POST', '/api/v1/namespaces', {
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${app}-pr-99` } },
        }),
      /must enforce the restricted Pod Security Standard/,
    );
    expect(imageOf(await deploymentIn(app))).toBe(productionImage);
  });

  it.each([
    [
      'a ClusterRoleBinding',
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pwn}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
`,
      'extra.yaml:1 ClusterRoleBinding/pwn: ClusterRoleBinding (rbac.authorization.k8s.io/v1) may not be in a preview',
    ],
    [
      'a LoadBalancer Service',
      `apiVersion: v1
kind: Service
metadata: {name: open}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/name: archetype}
  ports: [{port: 80, targetPort: http}]
`,
      'extra.yaml:1 Service/open: spec.type LoadBalancer opens the preview beyond the cluster',
    ],
  ])('refuses a preview holding %s before anything is built or applied', async (_, extra, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-hostile-'));
    cpSync('k8s', dir, { recursive: true });
    writeFileSync(join(dir, 'extra.yaml'), extra);
    const run = await openPullRequest9(dir);
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      "The manifests of pull request #9's preview hold what a preview may not create",
    );
    expect(run.error).toContain(message);
    expect(run.log).not.toContain('docker buildx build');
    expect(await get(cluster, `/api/v1/namespaces/${app}-pr-9`)).toBeUndefined();
    expect(await get(cluster, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/pwn')).toBeUndefined();
  });

  it("is still refused by the cluster when the action's own checks are off, as in a pull request that rewrites it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-unguarded-'));
    cpSync('k8s', dir, { recursive: true });
    writeFileSync(
      join(dir, 'extra.yaml'),
      `apiVersion: v1
kind: Service
metadata: {name: hijack}
spec:
  selector: {app.kubernetes.io/name: archetype}
  externalIPs: [10.0.0.10]
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: catchall}
spec:
  defaultBackend: {service: {name: archetype, port: {number: 80}}}
`,
    );
    const run = await openPullRequest9(dir, { ARCHETYPE_DEPLOY_UNGUARDED_PREVIEW: '1' });
    expect(run.code).toBe(1);
    // the action's own check did not run: the API server's admission policy (rbac/preview.yaml) refused
    expect(run.error).not.toContain('hold what a preview may not create');
    expect(run.error).toMatch(
      /ValidatingAdmissionPolicy '[^']+-preview-contents' .*denied request: (a Service in a preview must be of type ClusterIP|an Ingress in a preview serves only its own host)/,
    );
    expect(await get(cluster, `/api/v1/namespaces/${app}-pr-9/services/hijack`)).toBeUndefined();
    expect(await deploymentIn(`${app}-pr-9`)).toBeUndefined();
    // the namespace made for it goes again, as nothing reached it
    await eventually(
      'namespace pr-9 deleted',
      async () => ((await get(cluster, `/api/v1/namespaces/${app}-pr-9`)) === undefined ? true : undefined),
      60_000,
    );
  });

  it('refuses a preview whose pods the restricted Pod Security Standard would refuse, with nothing applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-privileged-'));
    cpSync('k8s', dir, { recursive: true });
    const file = join(dir, 'deployment.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('runAsNonRoot: true', 'runAsNonRoot: false'));
    const run = await openPullRequest9(dir);
    expect(run.code).toBe(1);
    expect(run.error).toContain('Deployment/archetype: its pods would be refused by namespace');
    expect(run.error).toContain('runAsNonRoot');
    expect(run.error).toContain('nothing was applied');
    // the namespace made for it is gone again
    await eventually(
      'namespace pr-9 deleted',
      async () => ((await get(cluster, `/api/v1/namespaces/${app}-pr-9`)) === undefined ? true : undefined),
      60_000,
    );
  });

  it('refuses a preview beyond max-previews before anything is made, naming the ones there are', async () => {
    const run = await runAction(
      { ...inputs(), 'max-previews': '1' },
      {
        ...pullRequest('pull_request.opened'),
        payload: eventFile('pull_request.opened', (p) => {
          if (p.pull_request) p.pull_request.number = 9;
          p.number = 9;
        }),
      },
    );
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      `1 previews of ${app} exist already (${preview}), as many as input 'max-previews' (1) allows`,
    );
    expect(await get(cluster, `/api/v1/namespaces/${app}-pr-9`)).toBeUndefined();
  });

  it('skips a pull request from a fork with one notice, and without failing', async () => {
    const requestsBefore = github.requests.length;
    const run = await runAction(
      { 'github-token': token, registry: '', kubeconfig: '' },
      {
        event: 'pull_request',
        payload: eventFile('pull_request.fork'),
        sha: sha('e'),
        ref: 'refs/pull/8/merge',
      },
    );
    expect(run.code).toBe(0);
    expect(run.error).toBe('');
    const notices = [...run.log.matchAll(/^::notice::(.*)$/gm)].map((m) => m[1]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('pull request #8 comes from a fork (stranger/archetype)');
    expect(run.summary).toContain('skipped');
    expect(github.requests.length).toBe(requestsBefore);
    expect(await get(cluster, `/api/v1/namespaces/${app}-pr-8`)).toBeUndefined();
  });

  it('deletes the namespace when the pull request closes, and marks its deployments inactive', async () => {
    const run = await runAction(inputs(), pullRequest('pull_request.closed'));
    expect(run.error).toBe('');
    expect(run.code).toBe(0);
    expect(await get(cluster, `/api/v1/namespaces/${preview}`)).toBeUndefined();
    expect(run.summary).toContain('Deployment/archetype');
    // the earlier ones were made inactive by the later push and the rollback that succeeded
    expect(run.summary).toContain('1 deployment(s) marked inactive');

    const states = github.forEnvironment('pr-7').map((d) => d.statuses.at(-1)?.state);
    expect(states.length).toBeGreaterThan(0);
    expect(states).toEqual(states.map(() => 'inactive'));
    expect(github.forEnvironment('production')[0]?.statuses.at(-1)?.state).toBe('success');
    const [comment] = stickyComments();
    expect(comment?.body).toMatch(/\| Status \| removed \|/);
    expect(comment?.body).toContain(`namespace ${preview} deleted: pull request closed`);

    // production still serves
    const prod = await deploymentIn(app);
    expect(imageOf(prod)).toBe(productionImage);
    expect(prod?.status?.availableReplicas).toBe(2);

    // a second close (a re-run) finds nothing to delete and still succeeds
    const again = await runAction(inputs(), pullRequest('pull_request.closed'));
    expect(again.error).toBe('');
    expect(again.summary).toContain('did not exist');
  });

  it('a push that was queued behind the close deploys nothing: the preview stays gone', async () => {
    github.pulls.set(7, 'closed');
    const before = github.requests.length;
    const run = await runAction(inputs(), pullRequest('pull_request.synchronize'));
    expect(run.code).toBe(0);
    expect(run.log).toContain(
      '::notice::pull request #7 was closed after this run was queued: no preview is deployed',
    );
    expect(run.log).not.toMatch(/pushed /);
    expect(await get(cluster, `/api/v1/namespaces/${preview}`)).toBeUndefined();
    // it read the pull request, and made no deployment
    expect(github.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/local/archetype/pulls/7',
    ]);
  });
});
