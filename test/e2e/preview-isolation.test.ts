import { jest } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Cluster, KubeApiError } from '../../src/kube/client/client.js';
import { previewGuards, previewNamespaceObject } from '../../src/kube/preview/guard.js';
import { deleteNamespace, eventually, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { applyRbac, deleteRbac, identity } from '../helpers/identities.js';

// What binds a pull request that rewrites the action: the cluster's admission policies (rbac/preview.yaml),
// met here with raw API calls as the preview identity docs/github-setup.md sets up, with no action in between,
// as a rewritten workflow would make them. Each attack of the security review is refused by the API server
// with the policy's message. The policies match on the preview namespaces' names, so some calls are made as
// the cluster admin too: they bind whoever writes there, the controllers that create pods included.

jest.setTimeout(120_000);

const admin = testCluster();
const app = namespaceName('iso');
const production = app;
const preview = `${app}-pr-5`;
const previewer = identity();
const domain = 'preview.localhost';
const rbac = {
  APP: app,
  NAMESPACE: production,
  PRODUCTION_PRINCIPAL: identity().user,
  PREVIEW_PRINCIPAL: previewer.user,
  PREVIEW_DOMAIN: domain,
  INGRESS_NAMESPACE: 'app-routing-system',
  GATEWAY_NAMESPACE: `${app}-gw`,
  GATEWAY_NAME: 'shared',
};
const base = {
  namespace: preview,
  pr: 5,
  labels: { 'app.kubernetes.io/managed-by': 'archetype-deploy' },
  ingressNamespace: 'app-routing-system',
};
const highPriority = `${app}-high`;

/** Server-side apply, as any client would send it. */
async function apply(as: Cluster, object: KubernetesObject, dryRun = false): Promise<void> {
  const { apiVersion = '', kind = '', metadata = {} } = object;
  const path = await as.pathOf(apiVersion, kind, metadata.namespace, metadata.name);
  await as.request('PATCH', path, {
    query: { fieldManager: 'attacker', force: true, ...(dryRun ? { dryRun: 'All' } : {}) },
    contentType: 'application/apply-patch+yaml',
    body: object,
  });
}

/** The API server's refusal, as status and message ('' when the call went through). */
async function refusal(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return '';
  } catch (error) {
    if (error instanceof KubeApiError) return `${error.status} ${error.serverMessage}`;
    throw error;
  }
}
const policy = (name: string) =>
  new RegExp(`^403 .*ValidatingAdmissionPolicy '${app}-${name}'.* denied request`);

const service = (name: string, spec: Record<string, unknown>): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: preview },
    spec: { ports: [{ port: 80 }], ...spec },
  }) as KubernetesObject;
const ingressFor = (name: string, spec: Record<string, unknown>, annotations = {}): KubernetesObject =>
  ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: preview, annotations },
    spec,
  }) as KubernetesObject;
const backend = { service: { name: 'web', port: { number: 80 } } };
const rule = (host: string, path = '/') => ({
  host,
  http: { paths: [{ path, pathType: 'Prefix', backend }] },
});
const route = (name: string, spec: Record<string, unknown>): KubernetesObject =>
  ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: preview },
    spec: {
      parentRefs: [{ name: 'shared', namespace: `${app}-gw` }],
      hostnames: [`pr-5.${domain}`],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
      ...spec,
    },
  }) as KubernetesObject;
const networkPolicy = (name: string, spec: Record<string, unknown>): KubernetesObject =>
  ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: preview },
    spec: { podSelector: {}, ...spec },
  }) as KubernetesObject;
/** A pod the restricted Pod Security Standard admits (kwok runs it; nothing is pulled). */
const pod = (namespace: string, name: string, spec: Record<string, unknown> = {}): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'archetype',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      ...spec,
    },
  }) as KubernetesObject;

beforeAll(async () => {
  for (const file of ['deployer', 'production', 'preview']) await applyRbac(admin, file, rbac);
  await apply(admin, {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: highPriority },
    value: 1_000_000,
  } as KubernetesObject);
  // the preview identity makes its namespace and binds itself there, as the action does (RBAC lets it)
  await apply(previewer.cluster, previewNamespaceObject({ ...base, appName: app }));
  await apply(previewer.cluster, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${app}-deployer`, namespace: preview },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${app}-deployer` },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: previewer.user }],
  } as KubernetesObject);
  // the API server loads new policies a moment after they are written
  await eventually('the admission policies in effect', async () =>
    /preview-contents/.test(
      await refusal(() => apply(admin, service('probe', { externalIPs: ['10.0.0.10'] }), true)),
    )
      ? true
      : undefined,
  );
  // RBAC takes effect once the API server's informer has the binding
  await eventually('the binding in effect', async () =>
    (await refusal(() => previewer.cluster.request('GET', `/api/v1/namespaces/${preview}/services`))) === ''
      ? true
      : undefined,
  );
});

afterAll(async () => {
  for (const ns of [preview, `${app}-pr-6`, production]) await deleteNamespace(admin, ns);
  await admin
    .request('DELETE', `/apis/scheduling.k8s.io/v1/priorityclasses/${highPriority}`)
    .catch(() => undefined);
  for (const file of ['preview', 'production', 'deployer']) await deleteRbac(admin, file, rbac);
});

describe('a preview namespace, whoever writes to it (rbac/preview.yaml)', () => {
  const as = () => previewer.cluster;

  it('runs no pod before its default-deny, quota and limits exist, not even the admin’s', async () => {
    expect(await refusal(() => apply(admin, pod(preview, 'early')))).toMatch(
      /^422 .*ValidatingAdmissionPolicy 'archetype-deploy-preview-pods-(isolated|quota|limits)'.*no params found/,
    );
  });

  it("takes the action's own isolation objects, and then pods", async () => {
    for (const guard of previewGuards(base)) expect(await refusal(() => apply(as(), guard.object))).toBe('');
    await eventually('a pod admitted once the guards exist', async () =>
      (await refusal(() => apply(admin, pod(preview, 'ok')))) === '' ? true : undefined,
    );
  });

  it('refuses a preview namespace without the label that subjects its pods to the policies', async () => {
    const ns = previewNamespaceObject({ ...base, namespace: `${app}-pr-6`, appName: app });
    delete ns.metadata?.labels?.['archetype-deploy.github.io/preview-of'];
    expect(await refusal(() => apply(as(), ns))).toMatch(
      new RegExp(`must carry the label archetype-deploy.github.io/preview-of=${app}`),
    );
  });

  it('refuses a namespace with another Pod Security profile or version', async () => {
    for (const labels of [
      {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.24',
      },
      {
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      },
    ]) {
      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${app}-pr-6`, labels } };
      expect(await refusal(() => apply(as(), ns))).toMatch(
        /must enforce the restricted Pod Security Standard at its latest version/,
      );
      // an existing preview cannot be moved to it either
      expect(await refusal(() => apply(as(), { ...ns, metadata: { name: preview, labels } }))).toMatch(
        policy('preview-contents'),
      );
    }
  });

  it.each([
    ['externalIPs (CVE-2020-8554)', service('hijack', { externalIPs: ['10.0.0.10'] })],
    ['a LoadBalancer', service('lb', { type: 'LoadBalancer' })],
    ['an ExternalName', { ...service('name', {}), spec: { type: 'ExternalName', externalName: 'web.prod' } }],
  ])('refuses a Service with %s', async (_, object) => {
    expect(await refusal(() => apply(as(), object as KubernetesObject))).toMatch(
      /a Service in a preview must be of type ClusterIP without externalIPs/,
    );
  });

  it.each([
    ["production's host", ingressFor('prod', { rules: [rule('archetype.example.com')] })],
    [
      "a more specific path on production's host",
      ingressFor('login', { rules: [rule('archetype.example.com', '/login')] }),
    ],
    ['no rule but a default backend', ingressFor('catchall', { defaultBackend: backend })],
    [
      'its own host and a default backend',
      ingressFor('both', { rules: [rule(`pr-5.${domain}`)], defaultBackend: backend }),
    ],
    ["another preview's host", ingressFor('other', { rules: [rule(`pr-6.${domain}`)] })],
  ])('refuses an Ingress for %s', async (_, object) => {
    expect(await refusal(() => apply(as(), object))).toMatch(
      new RegExp(`an Ingress in a preview serves only its own host pr-5\\.${domain}, with at least one rule`),
    );
  });

  it("refuses an Ingress annotation that would copy production's certificate, and takes one of the list", async () => {
    const keyVault = ingressFor(
      'cert',
      { rules: [rule(`pr-5.${domain}`)] },
      { 'kubernetes.azure.com/tls-cert-keyvault-uri': 'https://prod.vault.azure.net/certificates/archetype' },
    );
    expect(await refusal(() => apply(as(), keyVault))).toMatch(
      /may not set annotation kubernetes.azure.com\/tls-cert-keyvault-uri/,
    );
    const own = ingressFor(
      'own',
      { rules: [rule(`pr-5.${domain}`)] },
      { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' },
    );
    expect(await refusal(() => apply(as(), own))).toBe('');
  });

  it('writes HTTPRoutes only once bound to the preview-routes role, which it may bind only in a preview', async () => {
    const bind = (namespace: string) =>
      apply(as(), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${app}-preview-routes`, namespace },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `${app}-preview-routes`,
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: previewer.user }],
      } as KubernetesObject);
    // the deployer role grants no routes: a preview's route needs the role whose policy holds it
    expect(await refusal(() => apply(as(), route('own', {}), true))).toMatch(/^403 .*httproutes/);
    expect(await refusal(() => bind(production))).toMatch(policy('preview-namespaces'));
    expect(await refusal(() => bind(preview))).toBe('');
    await eventually('the routes binding in effect', async () =>
      (await refusal(() => apply(as(), route('own', {}), true))) === '' ? true : undefined,
    );
  });

  it.each([
    ["production's host", route('prod', { hostnames: ['archetype.example.com'] })],
    [
      "its own host and production's",
      route('both', { hostnames: [`pr-5.${domain}`, 'archetype.example.com'] }),
    ],
    ['every host of the listener (no hostnames)', route('any', { hostnames: [] })],
    ["another preview's host", route('other', { hostnames: [`pr-6.${domain}`] })],
    ['a wildcard over the previews', route('wild', { hostnames: [`*.${domain}`] })],
  ])('refuses an HTTPRoute for %s', async (_, object) => {
    expect(await refusal(() => apply(as(), object))).toMatch(
      new RegExp(
        `an HTTPRoute in a preview serves only its own host: spec.hostnames must be \\[pr-5\\.${domain}\\]`,
      ),
    );
  });

  it.each([
    ["production's own Gateway", route('gw', { parentRefs: [{ name: 'prod', namespace: production }] })],
    ['a Gateway of its own namespace', route('local', { parentRefs: [{ name: 'shared' }] })],
    [
      'the shared Gateway and another',
      route('two', {
        parentRefs: [
          { name: 'shared', namespace: `${app}-gw` },
          { name: 'other', namespace: `${app}-gw` },
        ],
      }),
    ],
    ['a Service parent (mesh)', route('mesh', { parentRefs: [{ group: '', kind: 'Service', name: 'web' }] })],
  ])('refuses an HTTPRoute attached to %s', async (_, object) => {
    expect(await refusal(() => apply(as(), object))).toMatch(
      new RegExp(`attaches only to the shared Gateway ${app}-gw/shared`),
    );
  });

  it.each([
    [
      "production's Service",
      { rules: [{ backendRefs: [{ name: 'archetype', namespace: production, port: 80 }] }] },
    ],
    [
      "a mirror of its traffic to production's Service",
      {
        rules: [
          {
            filters: [
              {
                type: 'RequestMirror',
                requestMirror: { backendRef: { name: 'archetype', namespace: production, port: 80 } },
              },
            ],
            backendRefs: [{ name: 'web', port: 80 }],
          },
        ],
      },
    ],
    [
      'an ExtensionRef filter',
      {
        rules: [
          {
            filters: [
              { type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Policy', name: 'x' } },
            ],
            backendRefs: [{ name: 'web', port: 80 }],
          },
        ],
      },
    ],
  ])('refuses an HTTPRoute that reaches %s', async (_, spec) => {
    expect(await refusal(() => apply(as(), route('out', spec)))).toMatch(
      /an HTTPRoute in a preview sends traffic only to Services of its own namespace/,
    );
  });

  it('takes its own route: its host, the shared Gateway, its Services', async () => {
    expect(await refusal(() => apply(as(), route('own', {})))).toBe('');
  });

  it.each([
    ['all egress', { egress: [{}] }],
    ['egress to the metadata endpoint', { egress: [{ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }] }] }],
    [
      "egress to production's namespace",
      {
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': production } } }] },
        ],
      },
    ],
    ['egress to every namespace', { egress: [{ to: [{ namespaceSelector: {} }] }] }],
    ['all ingress', { ingress: [{}] }],
    [
      'DNS to any port of kube-system',
      {
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
          },
        ],
      },
    ],
  ])('refuses a NetworkPolicy that opens %s', async (_, spec) => {
    expect(await refusal(() => apply(as(), networkPolicy('open', spec)))).toMatch(
      /a NetworkPolicy in a preview may allow traffic only from the ingress controller/,
    );
  });

  it('takes a NetworkPolicy that only narrows traffic among its own pods', async () => {
    const narrow = networkPolicy('narrow', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    });
    expect(await refusal(() => apply(as(), narrow))).toBe('');
  });

  it('keeps its default-deny, quota and limits: no delete, no widening', async () => {
    const [deny, quota, limits] = previewGuards(base).map((g) => g.object);
    const path = (guard: KubernetesObject | undefined) =>
      as().pathOf(guard?.apiVersion ?? '', guard?.kind ?? '', preview, guard?.metadata?.name);
    // the deployer role may delete NetworkPolicies: the policy keeps this one; RBAC alone keeps the others
    expect(await refusal(async () => as().request('DELETE', await path(deny)))).toMatch(
      /networkpolicies archetype-deploy-preview-default-deny isolates the preview and goes only with its namespace/,
    );
    for (const guard of [quota, limits])
      expect(await refusal(async () => as().request('DELETE', await path(guard)))).toMatch(/^403 /);
    // nor may the admin delete them while the namespace lives
    expect(await refusal(async () => admin.request('DELETE', await path(quota)))).toMatch(
      /resourcequotas archetype-deploy-preview-quota isolates the preview/,
    );
    const narrowed = {
      ...deny,
      spec: { ...(deny as { spec: object }).spec, podSelector: { matchLabels: { a: 'b' } } },
    };
    expect(await refusal(() => apply(as(), narrowed as KubernetesObject))).toMatch(/must select every pod/);
    const raised = {
      ...quota,
      spec: { hard: { ...(quota as { spec: { hard: object } }).spec.hard, 'limits.cpu': '64' } },
    };
    expect(await refusal(() => apply(as(), raised as KubernetesObject))).toMatch(
      /ResourceQuota archetype-deploy-preview-quota must set every one of .*limits.cpu <= 4/,
    );
  });

  it('runs no pod above priority 0, so that none preempts production', async () => {
    expect(
      await refusal(() => apply(admin, pod(preview, 'vip', { priorityClassName: highPriority }))),
    ).toMatch(new RegExp(`may not run above priority 0 \\(priorityClassName ${highPriority} is 1000000\\)`));
  });

  it('goes whole when its namespace is deleted: the guards do not hold the namespace up', async () => {
    expect(await refusal(() => as().request('DELETE', `/api/v1/namespaces/${preview}`))).toBe('');
    await eventually(
      'the preview namespace gone',
      async () => ((await get(admin, `/api/v1/namespaces/${preview}`)) === undefined ? true : undefined),
      60_000,
    );
  });
});

describe("production's namespace (rbac/production.yaml)", () => {
  it('enforces the restricted Pod Security Standard: no privileged pod, not even the admin’s', async () => {
    const privileged = pod(production, 'root', {
      securityContext: {},
      containers: [{ name: 'app', image: 'archetype', securityContext: { privileged: true } }],
    });
    expect(await refusal(() => apply(admin, privileged))).toMatch(
      /^403 .*violates PodSecurity "restricted:latest": privileged/,
    );
    expect(await refusal(() => apply(admin, pod(production, 'fine')))).toBe('');
  });
});
