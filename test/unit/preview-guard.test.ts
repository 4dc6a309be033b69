import { readFileSync } from 'node:fs';
import type { Manifest } from '../../src/kube/manifests/load.js';
import {
  allowedIngressAnnotations,
  checkPreviewManifests,
  type PreviewRoute,
  previewGuards,
  previewNamespaceObject,
  previewPolicy,
  previewQuota,
} from '../../src/kube/preview/guard.js';

const m = (object: Record<string, unknown>, line = 1): Manifest =>
  ({ file: 'k8s/x.yaml', line, object }) as Manifest;
const gateway = { namespace: 'gateway-system', name: 'shared' };
const refused = (
  objects: Manifest[],
  route: PreviewRoute = { host: 'pr-7.preview.example.com', gateway },
) => {
  try {
    checkPreviewManifests(objects, 7, route);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('what a preview may hold', () => {
  it('takes the archetype kinds', () => {
    expect(
      refused([
        m({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a' } }),
        m({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { type: 'ClusterIP' } }),
        m({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'a', annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' } },
          spec: { rules: [{ host: 'pr-7.preview.example.com' }] },
        }),
        m({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }),
        m({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'only-app' },
          spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] },
        }),
      ]),
    ).toBe('');
  });

  it('refuses what would escape the preview: catch-all Ingress, other annotations, open policies, high priority', () => {
    const message = refused([
      m(
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: {
            name: 'all',
            annotations: { 'kubernetes.azure.com/tls-cert-keyvault-uri': 'https://kv/certificates/prod' },
          },
          spec: { defaultBackend: { service: { name: 'a', port: { number: 80 } } } },
        },
        3,
      ),
      m(
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'open' },
          spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] },
        },
        8,
      ),
      m(
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name: 'c' },
          spec: {
            jobTemplate: { spec: { template: { spec: { priorityClassName: 'system-node-critical' } } } },
          },
        },
        13,
      ),
    ]);
    for (const where of [
      'k8s/x.yaml:3 Ingress/all: spec.defaultBackend may not be set in a preview',
      'k8s/x.yaml:3 Ingress/all: an Ingress in a preview needs a rule',
      'k8s/x.yaml:3 Ingress/all: annotation kubernetes.azure.com/tls-cert-keyvault-uri may not be set',
      "k8s/x.yaml:8 NetworkPolicy/open: a preview's NetworkPolicies may only select its own pods",
      'k8s/x.yaml:13 CronJob/c: priorityClassName system-node-critical may not be set in a preview',
    ])
      expect(message).toContain(where);
  });

  const route = (spec: Record<string, unknown>, line = 1) =>
    m(
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web', namespace: 'archetype-pr-7' },
        spec: {
          parentRefs: [{ name: 'shared', namespace: 'gateway-system' }],
          hostnames: ['pr-7.preview.example.com'],
          rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
          ...spec,
        },
      },
      line,
    );

  it('takes an HTTPRoute for its own host on the shared Gateway, to its own Services', () => {
    expect(refused([route({})])).toBe('');
  });

  it("refuses an HTTPRoute for another host, another parent, another namespace's Service or an ExtensionRef", () => {
    const message = refused([
      route({ hostnames: ['archetype.example.com'] }, 2),
      route({ parentRefs: [{ name: 'prod', namespace: 'archetype' }] }, 3),
      route({ rules: [{ backendRefs: [{ name: 'archetype', namespace: 'archetype', port: 80 }] }] }, 4),
      route(
        {
          rules: [
            {
              filters: [
                {
                  type: 'RequestMirror',
                  requestMirror: { backendRef: { name: 'db', namespace: 'archetype' } },
                },
                { type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'P', name: 'p' } },
              ],
              backendRefs: [{ name: 'web', port: 80 }],
            },
          ],
        },
        5,
      ),
    ]);
    for (const where of [
      'k8s/x.yaml:2 HTTPRoute/web: spec.hostnames ["archetype.example.com"] may not be served by a preview: it serves only pr-7.preview.example.com',
      'k8s/x.yaml:3 HTTPRoute/web: parentRef Gateway archetype/prod is not the shared Gateway gateway-system/shared',
      'k8s/x.yaml:4 HTTPRoute/web: backendRef Service archetype/archetype is outside the preview',
      'k8s/x.yaml:5 HTTPRoute/web: backendRef Service archetype/db is outside the preview',
      'k8s/x.yaml:5 HTTPRoute/web: ExtensionRef filters may not be used in a preview',
    ])
      expect(message).toContain(where);
  });

  it("needs inputs gateway and preview-domain for a preview's HTTPRoute", () => {
    const message = refused([route({})], { host: '' });
    expect(message).toContain("input 'preview-domain' is required for a preview's HTTPRoute");
    expect(message).toContain(
      "a preview's HTTPRoute attaches only to the shared Gateway: set input 'gateway'",
    );
  });

  it("allows the Ingress annotations rbac/preview.yaml's admission policy allows, no more", () => {
    const yaml = readFileSync(new URL('../../rbac/preview.yaml', import.meta.url), 'utf8');
    const listed = /- name: allowedAnnotations\s+expression: >-\s+\[([^\]]*)\]/.exec(yaml)?.[1] ?? '';
    const names = [...listed.matchAll(/'([^']+)'/g)].map((match) => match[1]);
    expect(names.length).toBeGreaterThan(0);
    expect(names).toEqual([...allowedIngressAnnotations]);
  });

  it('gives every preview a quota within the caps of the admission policy, and default limits', () => {
    const base = { namespace: 'archetype-pr-7', pr: 7, labels: {}, ingressNamespace: 'app-routing-system' };
    const yaml = readFileSync(new URL('../../rbac/preview.yaml', import.meta.url), 'utf8');
    const caps = /- name: quotaCaps\s+expression: >-\s+\{([^}]*)\}/.exec(yaml)?.[1] ?? '';
    const capped = Object.fromEntries([...caps.matchAll(/'([^']+)': '([^']+)'/g)].map((c) => [c[1], c[2]]));
    expect(Object.keys(capped).length).toBeGreaterThan(0);
    const quota = previewQuota(base).object as { spec: { hard: Record<string, string> } };
    expect(quota.spec.hard).toEqual(capped);
    const guards = previewGuards(base).map((g) => `${g.object.kind}/${g.object.metadata?.name}`);
    expect(guards).toEqual([
      'NetworkPolicy/archetype-deploy-preview-default-deny',
      'ResourceQuota/archetype-deploy-preview-quota',
      'LimitRange/archetype-deploy-preview-limits',
    ]);
  });

  it('refuses cluster-scoped and unlisted kinds, node ports, outside addresses and snippets, each by file and line', () => {
    const message = refused([
      m(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } },
        1,
      ),
      m({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'y' } }, 5),
      m({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort' } }, 9),
      m(
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { externalIPs: ['1.2.3.4'] } },
        12,
      ),
      m(
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: {
            name: 'i',
            annotations: { 'nginx.ingress.kubernetes.io/configuration-snippet': 'more_set_headers x' },
          },
        },
        20,
      ),
      m({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, 30),
      m({ apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'fake' } }, 40),
    ]);
    expect(message).toContain(
      "The manifests of pull request #7's preview hold what a preview may not create; nothing was applied",
    );
    for (const where of [
      'k8s/x.yaml:1 ClusterRoleBinding/x',
      'k8s/x.yaml:5 RoleBinding/y',
      'k8s/x.yaml:9 Service/np: spec.type NodePort',
      'k8s/x.yaml:12 Service/ext: spec.externalIPs',
      'k8s/x.yaml:20 Ingress/i: annotation nginx.ingress.kubernetes.io/configuration-snippet may not be set',
      'k8s/x.yaml:30 Pod/p',
      'k8s/x.yaml:40 Deployment/fake: Deployment (example.com/v1) may not be in a preview',
    ])
      expect(message).toContain(where);
  });

  it('starts every preview from a restricted namespace and a default-deny policy', () => {
    const base = {
      namespace: 'archetype-pr-7',
      pr: 7,
      labels: { 'app.kubernetes.io/instance': 'archetype-pr-7' },
      ingressNamespace: 'app-routing-system',
    };
    const ns = previewNamespaceObject({ ...base, appName: 'archetype' });
    const policy = previewPolicy(base);
    expect(ns.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'archetype-deploy.github.io/pr': '7',
    });
    const { spec } = policy.object as unknown as { spec: { egress: unknown[]; ingress: unknown[] } };
    expect(JSON.stringify(spec.egress)).not.toContain('ipBlock');
    expect(spec.egress).toHaveLength(2);
    expect(JSON.stringify(spec.ingress)).toContain('"kubernetes.io/metadata.name":"app-routing-system"');
    expect(JSON.stringify(spec.ingress)).not.toContain('gateway-system');
    // with input gateway, its namespace (where the Gateway's proxy runs on AKS) may send traffic in too
    const routed = previewPolicy({ ...base, gatewayNamespace: 'gateway-system' }).object as unknown as {
      spec: { ingress: unknown[] };
    };
    expect(JSON.stringify(routed.spec.ingress)).toContain('"kubernetes.io/metadata.name":"gateway-system"');
  });
});
