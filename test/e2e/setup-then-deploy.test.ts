// After `archetype-deploy setup --yes`, the action deploys as the identities setup created, and as nothing
// else: production and a preview sign in to Microsoft Entra ID (the stand-in) with the GitHub OIDC token their
// workflows present, through the federated credentials setup made; ARM gives them the cluster's user
// kubeconfig because of the Cluster User Role setup assigned; the API server knows them by the principal ids
// in their tokens and allows what setup's rbac/ objects bind, and refuses the preview identity in production's
// namespace. Images go to the local registry with its own credentials (the ACR exchange is test/azure's).
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { sub } from '../azure/setup-fixture.js';
import { eventFile } from '../fakes/github-server.js';
import { deleteNamespace, get, testCluster } from '../helpers/cluster.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';
import { type StandIns, setupArgs, startStandIns } from '../helpers/setup-cli.js';

jest.setTimeout(600_000);

const app = `sd${randomBytes(3).toString('hex')}`;
const namespace = `${app}-prod`;
const domain = `${app}.preview.localhost`; // setupArgs' preview domain
const admin = testCluster();
const commit = randomBytes(20).toString('hex');
let s: StandIns;

const args = setupArgs(app, namespace);

/** The action as a workflow of team/archetype runs it, signing in as `identity` with the subject it presents. */
function deployAs(identity: 'production' | 'preview', subject: string, extra: Record<string, string> = {}) {
  const made = s.fake.setup.identities.find((i) => i.name === `id-archetype-${identity}`);
  if (!made) throw new Error(`setup made no ${identity} identity`);
  s.fake.github.subject = subject;
  const { kubeconfig: _admin, ...local } = localTargetInputs();
  return runAction(
    {
      ...local,
      'app-name': app,
      'image-name': `${app}/archetype`,
      namespace,
      host: `${app}.localhost`,
      'azure-client-id': made.clientId,
      'azure-tenant-id': s.fake.tenantId,
      'azure-subscription-id': sub,
      'resource-group': 'rg-aks',
      'cluster-name': 'aks-archetype',
      'azure-authority-host': s.fake.url,
      'azure-resource-manager-endpoint': s.fake.url,
      ...extra,
    },
    {
      sha: commit,
      env: {
        NODE_EXTRA_CA_CERTS: s.caFile,
        GITHUB_API_URL: s.github.url,
        ACTIONS_ID_TOKEN_REQUEST_URL: `${s.fake.url}/github/idtoken?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: s.fake.github.requestToken,
      },
      ...(identity === 'preview' && !extra.namespace
        ? {
            event: 'pull_request',
            ref: 'refs/pull/7/merge',
            payload: eventFile('pull_request.opened', (p) => {
              if (p.pull_request) {
                p.pull_request.number = 7;
                p.pull_request.head.sha = commit;
              }
              p.number = 7;
            }),
          }
        : {}),
    },
  );
}

beforeAll(async () => {
  s = await startStandIns();
  s.github.pulls.set(7, 'open');
  const setup = await s.run([...args, '--yes']);
  expect({ code: setup.code, stderr: setup.stderr }).toEqual({ code: 0, stderr: '' });
  expect(setup.stdout).toMatch(/^ {2}all \d+ checks ok$/m);
});

afterAll(async () => {
  await s.run([...args, '--teardown', '--yes']);
  await s.close();
  await deleteNamespace(admin, `${app}-pr-7`).catch(() => undefined);
  await deleteNamespace(admin, namespace).catch(() => undefined);
});

describe('the action as the identities setup created', () => {
  it('deploys production as the production identity, through its federated credential', async () => {
    const run = await deployAs('production', 'repo:team/archetype:environment:production');
    expectRunOk(run);
    const deployment = await get<V1Deployment>(
      admin,
      `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
    );
    expect(deployment?.spec?.template.spec?.containers[0]?.image).toContain(`${app}/archetype@sha256:`);
    // it signed in as the production identity with the GitHub token (no secret exists for it), for ARM
    // and for the AKS server application, whose tokens name its principal to the API server
    const production = s.fake.setup.identities.find((i) => i.name === 'id-archetype-production');
    const federated = s.fake
      .requestsTo('POST', `/${s.fake.tenantId}/oauth2/v2.0/token`)
      .filter((r) => r.form.client_id === production?.clientId && r.form.client_assertion);
    expect(federated.map((r) => r.form.scope).sort()).toEqual(
      expect.arrayContaining([`${s.fake.url}/.default`, '6dae42f8-4368-4678-94ff-3960e28e3630/.default']),
    );
  });

  it('deploys a preview as the preview identity, in its own namespace', async () => {
    const run = await deployAs('preview', 'repo:team/archetype:pull_request', { 'preview-domain': domain });
    expectRunOk(run);
    const preview = await get<V1Deployment>(
      admin,
      `/apis/apps/v1/namespaces/${app}-pr-7/deployments/archetype`,
    );
    expect(preview?.spec?.template.spec?.containers[0]?.image).toContain(`${app}/archetype-preview@sha256:`);
  });

  it("refuses the preview identity in production's namespace, leaving production as it was", async () => {
    const before = await get<V1Deployment>(
      admin,
      `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
    );
    const run = await deployAs('preview', 'repo:team/archetype:ref:refs/heads/main', { namespace });
    expect(run.code).not.toBe(0);
    const preview = s.fake.setup.identities.find((i) => i.name === 'id-archetype-preview');
    expect(run.error).toContain(
      `User "${preview?.principalId}" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "${namespace}"`,
    );
    const after = await get<V1Deployment>(
      admin,
      `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
    );
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
  });

  it('a pull request cannot sign in as production: Entra refuses its subject', async () => {
    const run = await deployAs('production', 'repo:team/archetype:pull_request');
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(/AADSTS70021/);
  });
});
