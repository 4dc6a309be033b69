import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { KubeApiError } from '../../src/kube/client/client.js';
import { previewNamespaceObject } from '../../src/kube/preview/guard.js';
import { eventFile, FakeGitHub } from '../fakes/github-server.js';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { sharedGateway } from '../helpers/gateway.js';
import { applyRbac, deleteRbac, identity } from '../helpers/identities.js';
import {
  frontDoorGet,
  realNode,
  realNodeManifests,
  realNodeReport,
  withPullSecret,
} from '../helpers/real-node.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// A pull request's preview served through an HTTPRoute on the platform's shared Gateway (docs/gateway-api.md),
// end to end through dist/index.js as the preview identity of rbac/preview.yaml: the action binds the
// preview-routes role in the preview's namespace, attaches the route to the Gateway of input gateway with the
// preview's own host, and the request to that host through the Gateway reaches the pull request's commit on
// the real node. A route that claims production's host is refused, by the action before anything is built and
// by the cluster's policy when a rewritten action writes it itself.

jest.setTimeout(600_000);

const cluster = testCluster();
const app = namespaceName('prt');
const preview = `${app}-pr-4`;
const infra = `${app}-gw`;
const domain = `${app}.localhost`;
const previewHost = `pr-4.${domain}`;
const token = 'ghs_previewroutetoken';
const github = new FakeGitHub('local', 'archetype', token);
const sha = (c: string) => c.repeat(40);
const previewer = identity();
const rbac = {
  APP: app,
  PREVIEW_PRINCIPAL: previewer.user,
  PREVIEW_DOMAIN: domain,
  INGRESS_NAMESPACE: 'app-routing-system',
  GATEWAY_NAMESPACE: infra,
  GATEWAY_NAME: 'shared',
};
const folders: string[] = [];
let gatewayAddress = '';

/** k8s/ on the real node with an HTTPRoute instead of the Ingress; its hostnames are the manifests' own. */
async function manifests(hostnames: string): Promise<string> {
  const dir = await realNodeManifests();
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
      namespace: gateway-system
  hostnames: [${hostnames}]
  rules:
    - backendRefs:
        - name: archetype
          port: 80
`,
  );
  return dir;
}

const openPullRequest = (dir: string, commit: string, extra: Record<string, string> = {}) =>
  runAction(
    {
      ...localTargetInputs(),
      kubeconfig: previewer.kubeconfig,
      'app-name': app,
      'image-name': `${app}/archetype`,
      namespace: app,
      manifests: dir,
      'preview-domain': domain,
      gateway: `${infra}/shared`,
      'github-token': token,
      'rollout-timeout': '240s',
      'smoke-check': 'true',
      ...extra,
    },
    {
      env: { GITHUB_API_URL: github.url },
      event: 'pull_request',
      sha: sha(commit),
      ref: 'refs/pull/4/merge',
      payload: eventFile('pull_request.opened', (p) => {
        if (p.pull_request) {
          p.pull_request.number = 4;
          p.pull_request.head.sha = sha(commit);
        }
        p.number = 4;
      }),
    },
  );

beforeAll(async () => {
  realNode();
  await github.start();
  github.pulls.set(4, 'open');
  for (const file of ['deployer', 'preview']) await applyRbac(cluster, file, rbac);
  // the platform's shared Gateway: one listener for every preview host, routes from preview namespaces only
  gatewayAddress = await sharedGateway(cluster, infra, [
    {
      name: 'previews',
      hostname: `*.${domain}`,
      port: 80,
      protocol: 'HTTP',
      allowedRoutes: {
        namespaces: {
          from: 'Selector',
          selector: { matchLabels: { 'archetype-deploy.github.io/preview-of': app } },
        },
      },
    },
  ]);
  // the real node's kubelet pulls with the registry's secret: the namespace is made as the action makes it,
  // with the secret in it (a preview on AKS pulls through the kubelet's AcrPull instead)
  await cluster.request('POST', '/api/v1/namespaces', {
    body: previewNamespaceObject({
      namespace: preview,
      pr: 4,
      labels: {},
      ingressNamespace: 'app-routing-system',
      appName: app,
    }),
  });
  await withPullSecret(preview);
});

afterAll(async () => {
  await github.stop();
  for (const ns of [preview, infra]) await deleteNamespace(cluster, ns);
  for (const file of ['preview', 'deployer']) await deleteRbac(cluster, file, rbac);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('a preview with an HTTPRoute, on the shared Gateway', () => {
  it('refuses a route that claims production’s host before anything is built', async () => {
    // the action sets the preview's host; a pull request that turns that off (no preview-domain) is refused
    const run = await openPullRequest(await manifests('archetype.example.com'), 'a', {
      'preview-domain': '',
    });
    expect(run.code).not.toBe(0);
    expect(run.error).toContain("input 'preview-domain' is required for a preview's HTTPRoute");
    expect(
      await get(cluster, `/apis/gateway.networking.k8s.io/v1/namespaces/${preview}/httproutes/archetype`),
    ).toBe(undefined);
  });

  it('is reachable at its own host through the Gateway, serving the pull request’s commit', async () => {
    const run = await openPullRequest(await manifests('archetype.example.com'), 'b');
    if (run.code !== 0) expectRunOk(run, await realNodeReport(cluster, preview));
    expect(run.outputs.url).toBe(`http://${previewHost}/`);
    expect(run.log).toContain(`bound to ClusterRole ${app}-deployer and ${app}-preview-routes in ${preview}`);
    expect(run.log).toContain(
      `front door: GET http://${previewHost}/ through HTTPRoute/archetype (Gateway ${infra}/shared) at ${gatewayAddress}:80 answered revision ${sha('b')}`,
    );
    const route = await get<{
      spec: { hostnames: string[]; parentRefs: { namespace: string; name: string }[] };
    }>(cluster, `/apis/gateway.networking.k8s.io/v1/namespaces/${preview}/httproutes/archetype`);
    expect(route?.spec.hostnames).toEqual([previewHost]);
    expect(route?.spec.parentRefs).toEqual([expect.objectContaining({ namespace: infra, name: 'shared' })]);
    expect(JSON.parse(await frontDoorGet(previewHost, '/', `${gatewayAddress}:80`)).revision).toBe(sha('b'));
  });

  it('cannot take production’s host by writing the route itself: the cluster refuses it', async () => {
    // what a pull request that rewrites the action would send, as the preview identity it signs in as
    const error = await previewer.cluster
      .request('PATCH', `/apis/gateway.networking.k8s.io/v1/namespaces/${preview}/httproutes/archetype`, {
        query: { fieldManager: 'attacker', force: true },
        contentType: 'application/apply-patch+yaml',
        body: {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'archetype', namespace: preview },
          spec: { hostnames: ['archetype.example.com'] },
        },
      })
      .then(
        () => '',
        (e: unknown) => (e instanceof KubeApiError ? `${e.status} ${e.serverMessage}` : String(e)),
      );
    expect(error).toMatch(
      new RegExp(`^403 .*ValidatingAdmissionPolicy '${app}-preview-contents'.*serves only its own host`),
    );
    // and the preview still answers at its own host
    expect(JSON.parse(await frontDoorGet(previewHost, '/', `${gatewayAddress}:80`)).revision).toBe(sha('b'));
  });
});
