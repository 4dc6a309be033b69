import type { V1Deployment, V1LabelSelector, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { type Cluster, isNotFound } from '../client/client.js';
import { sameJson } from '../manifests/json.js';

// What track, diagnose and rollback share about Deployments: reading one, its ReplicaSets and revisions,
// following the deployment controller's rules (k8s.io/kubectl/pkg/util/deployment). Objects here are the
// API server's JSON: timestamps are strings even where the library's types say Date.

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const podTemplateHashLabel = 'pod-template-hash';

export const deploymentPath = (namespace: string, name?: string) =>
  `/apis/apps/v1/namespaces/${namespace}/deployments${name ? `/${name}` : ''}`;

export async function readDeployment(
  cluster: Cluster,
  namespace: string,
  name: string,
): Promise<V1Deployment> {
  try {
    return await cluster.request<V1Deployment>('GET', deploymentPath(namespace, name));
  } catch (error) {
    if (isNotFound(error))
      throw new Error(
        `Deployment '${name}' does not exist in namespace '${namespace}'; check input app-name / namespace, or deploy first`,
      );
    throw error;
  }
}

export function revisionOf(object: { metadata?: { annotations?: Record<string, string> } }): number {
  const value = Number(object.metadata?.annotations?.[revisionAnnotation]);
  return Number.isFinite(value) ? value : 0;
}

/** The label selector as the API's string form (matchLabels and matchExpressions). */
export function selectorString(selector: V1LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** ReplicaSets controlled by the Deployment, oldest first. */
export async function replicaSetsOf(cluster: Cluster, deployment: V1Deployment): Promise<V1ReplicaSet[]> {
  const namespace = deployment.metadata?.namespace ?? '';
  const list = await cluster.request<{ items: V1ReplicaSet[] }>(
    'GET',
    `/apis/apps/v1/namespaces/${namespace}/replicasets`,
    { query: { labelSelector: selectorString(deployment.spec?.selector) } },
  );
  const uid = deployment.metadata?.uid;
  return list.items
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === uid))
    .sort(
      (a, b) =>
        String(a.metadata?.creationTimestamp ?? '').localeCompare(
          String(b.metadata?.creationTimestamp ?? ''),
        ) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    );
}

/** The pod templates are equal once the ReplicaSet's pod-template-hash label is left out. */
export function sameTemplate(rs: V1ReplicaSet, deployment: V1Deployment): boolean {
  return sameJson(withoutHash(rs.spec?.template), withoutHash(deployment.spec?.template));
}

export function withoutHash<T extends { metadata?: { labels?: Record<string, string> } }>(
  template: T | undefined,
): T | undefined {
  if (!template) return template;
  const { [podTemplateHashLabel]: _hash, ...labels } = template.metadata?.labels ?? {};
  return { ...template, metadata: { ...template.metadata, labels } };
}

/** The ReplicaSet running the Deployment's current template, as the controller picks it. */
export function newReplicaSet(
  deployment: V1Deployment,
  replicaSets: V1ReplicaSet[],
): V1ReplicaSet | undefined {
  return replicaSets.find((rs) => sameTemplate(rs, deployment));
}

export function imagesOf(template: V1PodTemplateSpec | undefined): string[] {
  return (template?.spec?.containers ?? []).map((c) => c.image ?? '');
}
