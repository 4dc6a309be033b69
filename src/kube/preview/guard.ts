import type { KubernetesObject } from '@kubernetes/client-node';
import {
  defaultDenyPolicyName,
  previewLimitsName,
  previewOfLabel,
  previewQuotaName,
  prLabel,
} from '../../names.js';
import { groupOf, previewKinds } from '../kinds.js';
import type { Manifest } from '../manifests/load.js';
import { where } from '../manifests/load.js';
import { podTemplateOf } from '../manifests/render.js';

// What a pull request may put into the cluster. Its manifests are the pull request's own, so they are hostile
// input: only namespaced kinds from a list, no Service that opens a port on the nodes or an outside address,
// no Ingress or HTTPRoute for another host, no route to another Gateway or namespace, no annotation that
// configures the controller. Its namespace enforces the
// restricted Pod Security Standard and starts from a NetworkPolicy that denies everything but the ingress
// controller and DNS, a ResourceQuota and a LimitRange.
// A pull request can rewrite this file (under `uses: ./` it runs its own action): what binds it are the
// admission policies of rbac/preview.yaml, which refuse the same in the cluster. These checks say it first,
// with file and line, before anything is built.

/** kinds a preview may hold, by API group ('' for the core group): kube/kinds.ts's preview column */
const allowedKinds = previewKinds();

/**
 * Ingress annotations a preview may set: they act on its own Ingress alone. Any other may rewrite the
 * controller's configuration, take other hosts or sync another host's certificate. rbac/preview.yaml's
 * admission policy holds the same list (a unit test compares them).
 */
export const allowedIngressAnnotations: readonly string[] = [
  'kubernetes.io/change-cause',
  'kubectl.kubernetes.io/last-applied-configuration',
  'nginx.ingress.kubernetes.io/proxy-body-size',
  'nginx.ingress.kubernetes.io/proxy-connect-timeout',
  'nginx.ingress.kubernetes.io/proxy-read-timeout',
  'nginx.ingress.kubernetes.io/proxy-send-timeout',
  'nginx.ingress.kubernetes.io/ssl-redirect',
  'nginx.ingress.kubernetes.io/force-ssl-redirect',
  'nginx.ingress.kubernetes.io/backend-protocol',
  'nginx.ingress.kubernetes.io/rewrite-target',
];
const ownAnnotation = 'archetype-deploy.github.io/';

export const podSecurityLabels = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  // warn makes a dry-run of a workload report what its pods would violate, before anything is applied
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
} as const;

/** Where a preview is served: its host (pr-N.<preview-domain>) and the shared Gateway of input gateway. */
export interface PreviewRoute {
  host: string;
  gateway?: { namespace: string; name: string };
}

/**
 * Throws one error listing every object of a preview that is not allowed, by file and line; nothing is applied.
 * `manifests` are rendered: hosts and Gateway parents are the ones the action set.
 */
export function checkPreviewManifests(manifests: Manifest[], pr: number, route: PreviewRoute): void {
  const errors: string[] = [];
  for (const m of manifests) {
    const { apiVersion = '', kind = '' } = m.object;
    const group = groupOf(apiVersion);
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
    if (kind === 'Ingress') errors.push(...ingressErrors(m, spec));
    if (kind === 'HTTPRoute') errors.push(...routeErrors(m, spec as RouteSpec, route));
    if (kind === 'NetworkPolicy' && JSON.stringify(spec).match(/"(ipBlock|namespaceSelector)"/))
      errors.push(
        `${where(m)}: a preview's NetworkPolicies may only select its own pods (no ipBlock or namespaceSelector): they add to its default-deny, and may not open it`,
      );
    const template = podTemplateOf(m.object as Record<string, unknown>) as PodTemplate | undefined;
    if (template?.spec?.priorityClassName)
      errors.push(
        `${where(m)}: priorityClassName ${template.spec.priorityClassName} may not be set in a preview: preview pods run at the default priority, so that they never preempt production's`,
      );
  }
  if (errors.length > 0)
    throw new Error(
      `The manifests of pull request #${pr}'s preview hold what a preview may not create; nothing was applied:\n- ${errors.join('\n- ')}`,
    );
}

type PodTemplate = { spec?: { priorityClassName?: string } };

/** A preview with an Ingress or HTTPRoute needs a host of its own: input preview-domain. */
export function checkPreviewHost(manifests: Manifest[], pr: number, previewDomain: string): void {
  const routed = manifests.find((m) => m.object.kind === 'Ingress' || m.object.kind === 'HTTPRoute');
  if (!previewDomain && routed)
    throw new Error(
      `input 'preview-domain' is required for previews: the manifests have an ${routed.object.kind}, and pull request #${pr} needs a host of its own (pr-${pr}.<preview-domain>)`,
    );
}

function ingressErrors(m: Manifest, spec: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (spec.defaultBackend !== undefined)
    errors.push(
      `${where(m)}: spec.defaultBackend may not be set in a preview: the controller sends every host no rule matches to it`,
    );
  if (rules.length === 0)
    errors.push(`${where(m)}: an Ingress in a preview needs a rule (it serves the preview's host only)`);
  for (const key of Object.keys(m.object.metadata?.annotations ?? {}))
    if (!key.startsWith(ownAnnotation) && !allowedIngressAnnotations.includes(key))
      errors.push(
        `${where(m)}: annotation ${key} may not be set in a preview; previews may set only ${allowedIngressAnnotations.join(', ')}`,
      );
  return errors;
}

type Ref = { group?: string; kind?: string; namespace?: string; name?: string };
type Filter = { type?: string; requestMirror?: { backendRef?: Ref } };
type RouteSpec = {
  hostnames?: string[];
  parentRefs?: Ref[];
  rules?: { filters?: Filter[]; backendRefs?: (Ref & { filters?: Filter[] })[] }[];
};

/** rbac/preview.yaml's route rules: own host, the shared Gateway only, own Services only, no ExtensionRef. */
function routeErrors(m: Manifest, spec: RouteSpec, route: PreviewRoute): string[] {
  const errors: string[] = [];
  const ns = m.object.metadata?.namespace;
  const hosts = spec.hostnames ?? [];
  if (!route.host)
    errors.push(
      `${where(m)}: input 'preview-domain' is required for a preview's HTTPRoute: it serves pr-<number>.<preview-domain> only`,
    );
  else if (hosts.length === 0 || hosts.some((h) => h !== route.host))
    errors.push(
      `${where(m)}: spec.hostnames ${JSON.stringify(hosts)} may not be served by a preview: it serves only ${route.host}`,
    );
  const gateway = route.gateway;
  if (!gateway)
    errors.push(
      `${where(m)}: a preview's HTTPRoute attaches only to the shared Gateway: set input 'gateway' (namespace/name, the one rbac/preview.yaml names)`,
    );
  const parents = spec.parentRefs ?? [];
  if (parents.length === 0) errors.push(`${where(m)}: spec.parentRefs is empty`);
  for (const p of parents)
    if (
      gateway &&
      ((p.group ?? 'gateway.networking.k8s.io') !== 'gateway.networking.k8s.io' ||
        (p.kind ?? 'Gateway') !== 'Gateway' ||
        p.namespace !== gateway.namespace ||
        p.name !== gateway.name)
    )
      errors.push(
        `${where(m)}: parentRef ${p.kind ?? 'Gateway'} ${p.namespace ?? ns ?? ''}/${p.name ?? ''} is not the shared Gateway ${gateway.namespace}/${gateway.name}; a preview attaches only to it`,
      );
  const mirrors = (filters: Filter[] = []) => filters.flatMap((f) => f.requestMirror?.backendRef ?? []);
  const rules = spec.rules ?? [];
  const backends = rules.flatMap((r) => r.backendRefs ?? []);
  const filters = [...rules.flatMap((r) => r.filters ?? []), ...backends.flatMap((b) => b.filters ?? [])];
  for (const b of [...backends, ...mirrors(filters)])
    if ((b.group ?? '') !== '' || (b.kind ?? 'Service') !== 'Service' || (b.namespace ?? ns) !== ns)
      errors.push(
        `${where(m)}: backendRef ${b.kind ?? 'Service'} ${b.namespace ? `${b.namespace}/` : ''}${b.name ?? ''} is outside the preview; a preview's route sends only to Services of its own namespace`,
      );
  if (filters.some((f) => f.type === 'ExtensionRef'))
    errors.push(
      `${where(m)}: ExtensionRef filters may not be used in a preview: they configure the controller beyond this route`,
    );
  return errors;
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
  /** namespace of the ingress controller, a source of traffic from outside */
  ingressNamespace: string;
  /** namespace of the shared Gateway (input gateway), whose proxy is the other one */
  gatewayNamespace?: string;
}

/** The preview's namespace: labelled with its pull request, enforcing the restricted Pod Security Standard. */
export function previewNamespaceObject(base: PreviewBase & { appName: string }): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: base.namespace,
      labels: {
        ...base.labels,
        [prLabel]: String(base.pr),
        [previewOfLabel]: base.appName,
        ...podSecurityLabels,
      },
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
        // the ingress controller, the shared Gateway's proxy, the preview's own pods, and kube-system, where
        // AKS's konnectivity agent carries the API server's service proxy (the smoke check)
        {
          from: [
            byName(base.ingressNamespace),
            ...(base.gatewayNamespace && base.gatewayNamespace !== base.ingressNamespace
              ? [byName(base.gatewayNamespace)]
              : []),
            byName('kube-system'),
            { podSelector: {} },
          ],
        },
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
  return ownObject('preview network policy', policy);
}

/** An object the action adds to a preview's set, named as its source in messages. */
function ownObject(what: string, object: object): Manifest {
  return { file: `(the action: ${what})`, line: 0, object } as Manifest;
}

/** The preview's share of the cluster: rbac/preview.yaml caps each of these and refuses pods without it. */
export function previewQuota(base: PreviewBase): Manifest {
  const quota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: previewQuotaName, namespace: base.namespace, labels: base.labels },
    spec: {
      hard: {
        pods: '10',
        'requests.cpu': '1',
        'requests.memory': '2Gi',
        'limits.cpu': '4',
        'limits.memory': '4Gi',
        'requests.storage': '10Gi',
        persistentvolumeclaims: '4',
        services: '10',
      },
    },
  };
  return ownObject('preview quota', quota);
}

/** Defaults for containers that set no resources (the quota needs them), and a ceiling per container. */
export function previewLimits(base: PreviewBase): Manifest {
  const limits = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: previewLimitsName, namespace: base.namespace, labels: base.labels },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m', memory: '256Mi' },
          defaultRequest: { cpu: '50m', memory: '64Mi' },
          max: { cpu: '2', memory: '2Gi' },
        },
      ],
    },
  };
  return ownObject('preview limits', limits);
}

/** What isolates a preview, written right after its namespace and before anything of its manifests. */
export function previewGuards(base: PreviewBase): Manifest[] {
  return [previewPolicy(base), previewQuota(base), previewLimits(base)];
}
