// Every kind the action knows, in one table: where it is written in a deploy, where its pod template is,
// how its rollout is read, whether prune may delete it and whether a pull request's preview may hold it.
// Every list of kinds in src/ derives from it. A kind not in the table is still applied (last, with the
// workloads' stage) but never tracked, pruned or allowed in a preview.
//
// The order is fluxcd's ReconcileOrder as far as a namespaced deploy meets it: namespaces and definitions,
// RBAC, quotas and limits, service accounts, configuration, storage, services and policies, workloads,
// autoscalers, routes. Writes go in three stages, each at once (what the next stage needs is then live):
// the namespace; what admission and pods need at start; the rest.

export type Rollout = 'deployment' | 'statefulset' | 'daemonset' | 'job';

export interface Kind {
  apiVersion: string;
  kind: string;
  /** its rank in the apply order (lower first) */
  order: number;
  /** the write stage: 0 the namespace, 1 what admission and pods read at start, 2 the rest */
  stage: 0 | 1 | 2;
  /** where its pod template is, as a path of fields */
  podTemplate?: readonly string[];
  /** its pods are chosen by spec.selector, which must match the template's labels */
  selector?: boolean;
  /** how its rollout is read: its status function in kube/rollout/status.ts, watched by kube/rollout/track.ts (Deployments) or track-workload.ts */
  rollout?: Rollout;
  /** prune deletes it once it leaves the manifests (the action applied it, and the deployer role may) */
  prunable: boolean;
  /** a pull request's preview may hold it */
  preview: boolean;
  /** it serves traffic or stays running, so it is never written before the rest (pre-deploy) */
  longRunning?: boolean;
  /** its spec.replicas may be a HorizontalPodAutoscaler's to set (kube/rollout/autoscale.ts) */
  scalable?: boolean;
  /** not in a namespace: the action never sets one on it */
  clusterScoped?: boolean;
}

const template = ['spec', 'template'] as const;
/** A row: neither pruned nor allowed in a preview unless it says so. */
const row = (
  apiVersion: string,
  kind: string,
  order: number,
  stage: Kind['stage'],
  more: Partial<Omit<Kind, 'apiVersion' | 'kind' | 'order' | 'stage'>> = {},
): Kind => ({ apiVersion, kind, order, stage, prunable: false, preview: false, ...more });
/** Applied and pruned by a deploy, and a preview may hold it. */
const app = { prunable: true, preview: true } as const;
const cluster = { clusterScoped: true } as const;
const workload = (rollout: Rollout) =>
  ({ ...app, podTemplate: template, selector: true, rollout, longRunning: true }) as const;

export const kinds: readonly Kind[] = [
  row('v1', 'Namespace', 0, 0, { ...cluster, longRunning: true }),
  row('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 1, 0, cluster),
  // cluster-wide kinds a namespaced deploy rarely holds: known so that no namespace is set on them
  row('scheduling.k8s.io/v1', 'PriorityClass', 1, 1, cluster),
  row('storage.k8s.io/v1', 'StorageClass', 1, 1, cluster),
  row('networking.k8s.io/v1', 'IngressClass', 1, 1, cluster),
  row('gateway.networking.k8s.io/v1', 'GatewayClass', 1, 1, cluster),
  row('v1', 'PersistentVolume', 1, 1, cluster),
  row('v1', 'Node', 1, 1, cluster),
  row('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 1, 1, cluster),
  row('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 1, 1, cluster),
  row('rbac.authorization.k8s.io/v1', 'ClusterRole', 2, 1, cluster),
  row('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 2, 1, cluster),
  row('rbac.authorization.k8s.io/v1', 'Role', 2, 1),
  row('rbac.authorization.k8s.io/v1', 'RoleBinding', 2, 1),
  // the deployer role reads quotas and limits but does not delete them: they are the cluster admin's
  row('v1', 'ResourceQuota', 3, 1),
  row('v1', 'LimitRange', 3, 1),
  row('v1', 'ServiceAccount', 4, 1, app),
  row('v1', 'ConfigMap', 5, 1, app),
  row('v1', 'Secret', 5, 1, app),
  // a claim that leaves the manifests keeps its data: deleted by hand, never by prune
  row('v1', 'PersistentVolumeClaim', 6, 1, { preview: true }),
  row('v1', 'Service', 7, 2, { ...app, longRunning: true }),
  row('networking.k8s.io/v1', 'NetworkPolicy', 7, 2, app),
  row('policy/v1', 'PodDisruptionBudget', 7, 2, app),
  // usually the platform's, shared and read only by preflight; applied before its routes when a set holds
  // one, never pruned (other namespaces' routes may attach to it) nor allowed in a preview
  row('gateway.networking.k8s.io/v1', 'Gateway', 7, 2, { longRunning: true }),
  row('apps/v1', 'Deployment', 8, 2, { ...workload('deployment'), scalable: true }),
  row('apps/v1', 'StatefulSet', 8, 2, { ...workload('statefulset'), scalable: true }),
  // a pod on every node, production's included
  row('apps/v1', 'DaemonSet', 8, 2, { ...workload('daemonset'), preview: false }),
  // made by Deployments: applied as written, never tracked or pruned
  row('apps/v1', 'ReplicaSet', 8, 2, { podTemplate: template, selector: true, longRunning: true }),
  row('batch/v1', 'Job', 8, 2, { ...app, podTemplate: template, rollout: 'job' }),
  row('batch/v1', 'CronJob', 8, 2, { ...app, podTemplate: ['spec', 'jobTemplate', 'spec', 'template'] }),
  row('autoscaling/v2', 'HorizontalPodAutoscaler', 9, 2, app),
  row('networking.k8s.io/v1', 'Ingress', 10, 2, { ...app, longRunning: true }),
  // not in the deployer role, which is bound in every preview: rbac/production.yaml grants routes in production's
  // namespace, rbac/preview.yaml in a preview's with the policy that holds them to its host and the shared Gateway
  row('gateway.networking.k8s.io/v1', 'HTTPRoute', 10, 2, { ...app, longRunning: true }),
];

const byKind = new Map(kinds.map((k) => [k.kind, k]));
/** after every known kind, with the workloads' stage */
const unknownOrder = 11;

/** The API group of an apiVersion: '' for the core group (v1), else what comes before the slash. */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** The table's row of a kind, if it has one. */
export function kindOf(kind: string | undefined): Kind | undefined {
  return byKind.get(kind ?? '');
}

/** Whether objects of the kind live in a namespace (unknown kinds are taken to). */
export function isNamespaced(kind: string | undefined): boolean {
  return kindOf(kind)?.clusterScoped !== true;
}

export function applyOrder(kind: string | undefined): number {
  return kindOf(kind)?.order ?? unknownOrder;
}

export function applyStage(kind: string | undefined): 0 | 1 | 2 {
  return kindOf(kind)?.stage ?? 2;
}

/**
 * What prune lists and may delete: every kind the deployer role (rbac/deployer.yaml) lets the action apply,
 * but PersistentVolumeClaims, whose deletion would take their data. Also what the deploy lock, the teardown
 * and an unchanged set look for (kube/client/list.ts).
 */
export const prunableKinds: ReadonlyArray<{ apiVersion: string; kind: string }> = kinds
  .filter((k) => k.prunable)
  .map(({ apiVersion, kind }) => ({ apiVersion, kind }));

/** Workloads tracked the kstatus way (kube/rollout/track-workload.ts); Deployments have their watch (kube/rollout/track.ts). */
export const trackedKinds: ReadonlySet<string> = new Set(
  kinds.filter((k) => k.rollout && k.rollout !== 'deployment').map((k) => k.kind),
);

/** The kinds a preview may hold, by API group ('' for the core group). */
export function previewKinds(): Record<string, ReadonlySet<string>> {
  const groups: Record<string, Set<string>> = {};
  for (const k of kinds.filter((k) => k.preview)) {
    const group = groupOf(k.apiVersion);
    groups[group] = new Set([...(groups[group] ?? []), k.kind]);
  }
  return groups;
}
