import type { ResourceInfo } from './client.js';

// The stable built-in APIs every supported Kubernetes serves (all GA by 1.23; AKS supports none older): their
// resource names are known, so a deploy asks discovery only for the rest (custom resources, beta versions).
// kubectl gets the same from its discovery cache on disk; a fresh runner has none.

export const builtInResources: Readonly<
  Record<string, Record<string, [plural: string, namespaced: boolean]>>
> = {
  v1: {
    ConfigMap: ['configmaps', true],
    Endpoints: ['endpoints', true],
    Event: ['events', true],
    LimitRange: ['limitranges', true],
    Namespace: ['namespaces', false],
    Node: ['nodes', false],
    PersistentVolume: ['persistentvolumes', false],
    PersistentVolumeClaim: ['persistentvolumeclaims', true],
    Pod: ['pods', true],
    ResourceQuota: ['resourcequotas', true],
    Secret: ['secrets', true],
    Service: ['services', true],
    ServiceAccount: ['serviceaccounts', true],
  },
  'apps/v1': {
    ControllerRevision: ['controllerrevisions', true],
    DaemonSet: ['daemonsets', true],
    Deployment: ['deployments', true],
    ReplicaSet: ['replicasets', true],
    StatefulSet: ['statefulsets', true],
  },
  'autoscaling/v2': { HorizontalPodAutoscaler: ['horizontalpodautoscalers', true] },
  'batch/v1': { CronJob: ['cronjobs', true], Job: ['jobs', true] },
  'coordination.k8s.io/v1': { Lease: ['leases', true] },
  'discovery.k8s.io/v1': { EndpointSlice: ['endpointslices', true] },
  'networking.k8s.io/v1': {
    Ingress: ['ingresses', true],
    IngressClass: ['ingressclasses', false],
    NetworkPolicy: ['networkpolicies', true],
  },
  'policy/v1': { PodDisruptionBudget: ['poddisruptionbudgets', true] },
  'rbac.authorization.k8s.io/v1': {
    ClusterRole: ['clusterroles', false],
    ClusterRoleBinding: ['clusterrolebindings', false],
    Role: ['roles', true],
    RoleBinding: ['rolebindings', true],
  },
};

/** The resource behind a stable built-in apiVersion + kind, or undefined: ask discovery. */
export function builtInResource(apiVersion: string, kind: string): ResourceInfo | undefined {
  const known = builtInResources[apiVersion]?.[kind];
  return known ? { plural: known[0], namespaced: known[1] } : undefined;
}
