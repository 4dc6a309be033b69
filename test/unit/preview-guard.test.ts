import type { Manifest } from '../../src/kube/manifests.js';
import {
  checkPreviewManifests,
  previewNamespaceObject,
  previewPolicy,
} from '../../src/kube/preview-guard.js';

const m = (object: Record<string, unknown>, line = 1): Manifest =>
  ({ file: 'k8s/x.yaml', line, object }) as Manifest;
const refused = (objects: Manifest[]) => {
  try {
    checkPreviewManifests(objects, 7);
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
        m({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'a' } }),
        m({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }),
      ]),
    ).toBe('');
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
      'k8s/x.yaml:20 Ingress/i: annotation nginx.ingress.kubernetes.io/configuration-snippet',
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
    const ns = previewNamespaceObject(base);
    const policy = previewPolicy(base);
    expect(ns.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'archetype-deploy.github.io/pr': '7',
    });
    const { spec } = policy.object as unknown as { spec: { egress: unknown[]; ingress: unknown[] } };
    expect(JSON.stringify(spec.egress)).not.toContain('ipBlock');
    expect(spec.egress).toHaveLength(2);
    expect(JSON.stringify(spec.ingress)).toContain('"kubernetes.io/metadata.name":"app-routing-system"');
  });
});
