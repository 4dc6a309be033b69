import type {
  KubernetesObject,
  V1Deployment,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { changeCauseAnnotation, gitShaAnnotation, managedBy } from '../../names.js';
import type { Cluster } from '../client/client.js';
import { instanceSelector } from '../client/list.js';
import { sameJson } from '../manifests/json.js';
import { selectorString } from '../manifests/selector.js';

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
  const deployment = await cluster.get<V1Deployment>(deploymentPath(namespace, name));
  if (!deployment)
    throw new Error(
      `Deployment '${name}' does not exist in namespace '${namespace}'; check input app-name / namespace, or deploy first`,
    );
  return deployment;
}

export function revisionOf(object: { metadata?: { annotations?: Record<string, string> } }): number {
  const value = Number(object.metadata?.annotations?.[revisionAnnotation]);
  return Number.isFinite(value) ? value : 0;
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

/** Each Deployment's live revision; `read` holds those already read (preflight's, under the deploy lock). */
export async function servingRevisions(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  read: Map<string, KubernetesObject>,
): Promise<Map<string, number>> {
  const serving = new Map<string, number>();
  const names = new Set(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata?.name ?? ''));
  for (const name of names) {
    const live =
      read.get(`Deployment/${name}`) ?? (await cluster.get<V1Deployment>(deploymentPath(namespace, name)));
    if (live) serving.set(name, revisionOf(live));
  }
  return serving;
}

/** One revision of a Deployment, as a rollback lists it. */
export interface RevisionRow {
  revision: number;
  images: string[];
  /** when its ReplicaSet was created */
  created: string;
  changeCause?: string;
  /** the commit the revision was deployed from (the deploy's annotation, copied to the ReplicaSet) */
  gitSha?: string;
  current: boolean;
}

/** The one Deployment the action manages for the instance; none or several throw, naming the fix. */
export async function instanceDeployment(
  cluster: Cluster,
  namespace: string,
  instance: string,
  environment: string,
): Promise<string> {
  const selector = instanceSelector(managedBy, instance);
  const list = await cluster.request<{ items: V1Deployment[] }>('GET', deploymentPath(namespace), {
    query: { labelSelector: selector },
  });
  const names = list.items.map((d) => d.metadata?.name ?? '');
  if (names.length === 1 && names[0]) return names[0];
  if (names.length === 0)
    throw new Error(
      `no Deployment of ${environment} in namespace '${namespace}' (labelled ${selector}); check inputs environment, app-name and namespace, or deploy first`,
    );
  throw new Error(
    `namespace '${namespace}' has ${names.length} Deployments of ${environment} (${names.join(', ')}); the rollback restores one Deployment per environment`,
  );
}

/** The Deployment's revisions, oldest first, from its ReplicaSets. */
export async function revisionsOf(cluster: Cluster, namespace: string, name: string): Promise<RevisionRow[]> {
  const deployment = await readDeployment(cluster, namespace, name);
  const current = revisionOf(deployment);
  return (await replicaSetsOf(cluster, deployment))
    .filter((rs) => revisionOf(rs) > 0)
    .map((rs) => {
      const annotations = rs.metadata?.annotations ?? {};
      const changeCause = annotations[changeCauseAnnotation];
      const gitSha = annotations[gitShaAnnotation];
      return {
        revision: revisionOf(rs),
        images: imagesOf(rs.spec?.template),
        created: String(rs.metadata?.creationTimestamp ?? ''),
        ...(changeCause ? { changeCause } : {}),
        ...(gitSha ? { gitSha } : {}),
        current: revisionOf(rs) === current,
      };
    })
    .sort((a, b) => a.revision - b.revision);
}
