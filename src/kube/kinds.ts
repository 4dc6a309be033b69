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
  /** how its rollout is read (kube/track.ts for Deployments, kube/track-workload.ts for the rest) */
  rollout?: Rollout;
  /** prune deletes it once it leaves the manifests (the action applied it, and the deployer role may) */
  prunable: boolean;
  /** a pull request's preview may hold it */
  preview: boolean;
  /** it serves traffic or stays running, so it is never written before the rest (pre-deploy) */
  longRunning?: boolean;
  /** not in a namespace: the action never sets one on it */
  clusterScoped?: boolean;
}

const template = ['spec', 'template'] as const;

export const kinds: readonly Kind[] = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    order: 0,
    stage: 0,
    prunable: false,
    preview: false,
    longRunning: true,
    clusterScoped: true,
  },
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    order: 1,
    stage: 0,
    prunable: false,
    preview: false,
    clusterScoped: true,
  },
  // cluster-wide kinds a namespaced deploy rarely holds: known so that no namespace is set on them
  ...(
    [
      ['scheduling.k8s.io/v1', 'PriorityClass'],
      ['storage.k8s.io/v1', 'StorageClass'],
      ['networking.k8s.io/v1', 'IngressClass'],
      ['v1', 'PersistentVolume'],
      ['v1', 'Node'],
    ] as const
  ).map(([apiVersion, kind]) => ({
    apiVersion,
    kind,
    order: 1,
    stage: 1 as const,
    prunable: false,
    preview: false,
    clusterScoped: true,
  })),
  ...['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].map((kind) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    order: 1,
    stage: 1 as const,
    prunable: false,
    preview: false,
    clusterScoped: true,
  })),
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    order: 2,
    stage: 1,
    prunable: false,
    preview: false,
    clusterScoped: true,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    order: 2,
    stage: 1,
    prunable: false,
    preview: false,
    clusterScoped: true,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    order: 2,
    stage: 1,
    prunable: false,
    preview: false,
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    order: 2,
    stage: 1,
    prunable: false,
    preview: false,
  },
  // the deployer role reads quotas and limits but does not delete them: they are the cluster admin's
  { apiVersion: 'v1', kind: 'ResourceQuota', order: 3, stage: 1, prunable: false, preview: false },
  { apiVersion: 'v1', kind: 'LimitRange', order: 3, stage: 1, prunable: false, preview: false },
  { apiVersion: 'v1', kind: 'ServiceAccount', order: 4, stage: 1, prunable: true, preview: true },
  { apiVersion: 'v1', kind: 'ConfigMap', order: 5, stage: 1, prunable: true, preview: true },
  { apiVersion: 'v1', kind: 'Secret', order: 5, stage: 1, prunable: true, preview: true },
  // a claim that leaves the manifests keeps its data: deleted by hand, never by prune
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', order: 6, stage: 1, prunable: false, preview: true },
  { apiVersion: 'v1', kind: 'Service', order: 7, stage: 2, prunable: true, preview: true, longRunning: true },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    order: 7,
    stage: 2,
    prunable: true,
    preview: true,
  },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', order: 7, stage: 2, prunable: true, preview: true },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    order: 8,
    stage: 2,
    podTemplate: template,
    selector: true,
    rollout: 'deployment',
    prunable: true,
    preview: true,
    longRunning: true,
  },
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    order: 8,
    stage: 2,
    podTemplate: template,
    selector: true,
    rollout: 'statefulset',
    prunable: true,
    preview: true,
    longRunning: true,
  },
  {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    order: 8,
    stage: 2,
    podTemplate: template,
    selector: true,
    rollout: 'daemonset',
    prunable: true,
    // a pod on every node, production's included
    preview: false,
    longRunning: true,
  },
  {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    order: 8,
    stage: 2,
    podTemplate: template,
    selector: true,
    prunable: false,
    preview: false,
    longRunning: true,
  },
  {
    apiVersion: 'batch/v1',
    kind: 'Job',
    order: 8,
    stage: 2,
    podTemplate: template,
    rollout: 'job',
    prunable: true,
    preview: true,
  },
  {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    order: 8,
    stage: 2,
    podTemplate: ['spec', 'jobTemplate', 'spec', 'template'],
    prunable: true,
    preview: true,
  },
  {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    order: 9,
    stage: 2,
    prunable: true,
    preview: true,
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    order: 10,
    stage: 2,
    prunable: true,
    preview: true,
    longRunning: true,
  },
];

const byKind = new Map(kinds.map((k) => [k.kind, k]));
/** after every known kind, with the workloads' stage */
const unknownOrder = 11;

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

/** What prune lists and may delete (also what a namespace's deploy lock and teardown look for). */
export const prunableKinds: ReadonlyArray<{ apiVersion: string; kind: string }> = kinds
  .filter((k) => k.prunable)
  .map(({ apiVersion, kind }) => ({ apiVersion, kind }));

/** Workloads tracked the kstatus way (kube/track-workload.ts); Deployments have their watch (kube/track.ts). */
export const trackedKinds: ReadonlySet<string> = new Set(
  kinds.filter((k) => k.rollout && k.rollout !== 'deployment').map((k) => k.kind),
);

/** The kinds a preview may hold, by API group ('' for the core group). */
export function previewKinds(): Record<string, ReadonlySet<string>> {
  const groups: Record<string, Set<string>> = {};
  for (const k of kinds.filter((k) => k.preview)) {
    const group = k.apiVersion.includes('/') ? (k.apiVersion.split('/')[0] ?? '') : '';
    groups[group] = new Set([...(groups[group] ?? []), k.kind]);
  }
  return groups;
}
