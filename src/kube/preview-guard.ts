import type { KubernetesObject } from '@kubernetes/client-node';
import { defaultDenyPolicyName, prLabel } from '../names.js';
import type { Manifest } from './manifests.js';
import { where } from './manifests.js';

// What a pull request may put into the cluster. Its manifests are the pull request's own, so they are hostile
// input: only namespaced kinds from a list, no Service that opens a port on the nodes or an outside address,
// no Ingress annotation that injects controller configuration. Its namespace enforces the restricted Pod
// Security Standard and starts from a NetworkPolicy that denies everything but the ingress controller and DNS.

/** group/version-less kinds a preview may hold, by API group ('' for the core group). */
const allowedKinds: Record<string, ReadonlySet<string>> = {
  '': new Set(['ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'PersistentVolumeClaim']),
  apps: new Set(['Deployment', 'StatefulSet']),
  batch: new Set(['Job', 'CronJob']),
  'networking.k8s.io': new Set(['Ingress', 'NetworkPolicy']),
  autoscaling: new Set(['HorizontalPodAutoscaler']),
  policy: new Set(['PodDisruptionBudget']),
};

/** Ingress annotations that let one Ingress rewrite the controller's configuration or take other hosts. */
const dangerousAnnotation = /snippet|server-alias|auth-url|auth-signin|\/mirror-|custom-http-errors/i;

export const podSecurityLabels = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  // warn makes a dry-run of a workload report what its pods would violate, before anything is applied
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
} as const;

/** Throws one error listing every object of a preview that is not allowed, by file and line; nothing is applied. */
export function checkPreviewManifests(manifests: Manifest[], pr: number): void {
  const errors: string[] = [];
  for (const m of manifests) {
    const { apiVersion = '', kind = '' } = m.object;
    const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
    if (!allowedKinds[group]?.has(kind)) {
      errors.push(
        `${where(m)}: ${kind} (${apiVersion}) may not be in a preview; previews hold only ${allowedList()}`,
      );
      continue;
    }
    const spec = (m.object as { spec?: Record<string, unknown> }).spec ?? {};
    if (kind === 'Service') {
      const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
      if (type !== 'ClusterIP')
        errors.push(
          `${where(m)}: spec.type ${type} opens the preview beyond the cluster; previews take only ClusterIP Services (traffic comes in through the Ingress)`,
        );
      if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0)
        errors.push(`${where(m)}: spec.externalIPs may not be set in a preview`);
    }
    if (kind === 'Ingress')
      for (const key of Object.keys(m.object.metadata?.annotations ?? {}))
        if (dangerousAnnotation.test(key))
          errors.push(
            `${where(m)}: annotation ${key} changes the ingress controller beyond this Ingress; previews may not set it`,
          );
  }
  if (errors.length > 0)
    throw new Error(
      `The manifests of pull request #${pr}'s preview hold what a preview may not create; nothing was applied:\n- ${errors.join('\n- ')}`,
    );
}

function allowedList(): string {
  return Object.values(allowedKinds)
    .flatMap((kinds) => [...kinds])
    .join(', ');
}

export interface PreviewBase {
  namespace: string;
  pr: number;
  labels: Record<string, string>;
  /** namespace of the ingress controller, the one source of traffic from outside */
  ingressNamespace: string;
}

/** The preview's namespace: labelled with its pull request, enforcing the restricted Pod Security Standard. */
export function previewNamespaceObject(base: PreviewBase): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: base.namespace,
      labels: { ...base.labels, [prLabel]: String(base.pr), ...podSecurityLabels },
    },
  };
}

/** The default-deny NetworkPolicy every preview starts from, applied with its manifests. */
export function previewPolicy(base: PreviewBase): Manifest {
  const byName = (name: string) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
  });
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: defaultDenyPolicyName, namespace: base.namespace, labels: base.labels },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        // the ingress controller, the preview's own pods, and kube-system, where AKS's konnectivity agent
        // carries the API server's service proxy (the smoke check)
        { from: [byName(base.ingressNamespace), byName('kube-system'), { podSelector: {} }] },
      ],
      egress: [
        // DNS, and the preview's own pods; no ipBlock, so no other address: not production's Services, not
        // the node's metadata endpoint 169.254.169.254, not the internet
        {
          to: [{ ...byName('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { to: [{ podSelector: {} }] },
      ],
    },
  };
  return { file: '(the action: preview network policy)', line: 0, object: policy } as Manifest;
}
