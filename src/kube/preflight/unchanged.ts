import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { instanceLabel, managedByLabel } from '../../names.js';
import { type AppliedObject, prunableKinds } from '../apply.js';
import { type Cluster, isNotFound } from '../client.js';
import { revisionOf } from '../deployment.js';
import { sameJson, sameObject } from '../json.js';

// A redeploy of what is live (a rerun, or a push that changed nothing the cluster sees) should apply
// nothing, make no revision, and finish in a second. Decided the way applySet decides it per object (a
// server-side apply dry-run equal to the live object), for the whole set, before any check or apply. The
// Deployments go first, and a changing deploy (a new image) dry-runs nothing else. Any doubt (an object
// missing, a conflict, an error) means "changed", and the normal path, which reports it properly, runs.

export interface Unchanged {
  objects: AppliedObject[];
  /** the revision the (last) Deployment serves */
  revision: number;
}

export interface LiveComparison {
  /** set when the whole set equals what is live and every Deployment is rolled out */
  unchanged?: Unchanged;
  /** Deployments whose pod template the apply leaves as it is (no rollout, no surge) */
  sameTemplate: Set<string>;
}

type Options = { namespace: string; instance: string; fieldManager: string };

export async function compareWithLive(
  cluster: Cluster,
  objects: KubernetesObject[],
  options: Options,
): Promise<LiveComparison> {
  const sameTemplate = new Set<string>();
  try {
    const ns = await cluster.request<{ status?: { phase?: string } }>(
      'GET',
      `/api/v1/namespaces/${options.namespace}`,
    );
    if (ns.status?.phase !== 'Active') return { sameTemplate };
  } catch {
    return { sameTemplate };
  }
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const others = objects.filter((o) => o.kind !== 'Deployment');
  const done: AppliedObject[] = [];
  let revision = 0;
  let changed = false;
  // the dry-runs are independent reads: asked for together (a set is a handful of objects)
  const ordered = [...deployments, ...others];
  const results = await Promise.all(ordered.map((object) => dryRun(cluster, object, options)));
  for (const [i, object] of ordered.entries()) {
    const compared = results[i];
    if (!compared) {
      changed = true;
      continue;
    }
    const { live, result } = compared;
    const name = object.metadata?.name ?? '';
    if (object.kind === 'Deployment') {
      const spec = (o: KubernetesObject) => (o as V1Deployment).spec?.template;
      if (sameJson(spec(live), spec(result))) sameTemplate.add(name);
      if (!rolledOut(live as V1Deployment)) changed = true;
      revision = revisionOf(live);
    }
    if (!sameObject(live, result)) changed = true;
    done.push({
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      name,
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
      action: 'unchanged',
    });
  }
  if (changed || (await somethingToPrune(cluster, objects, options))) return { sameTemplate };
  return { unchanged: { objects: done, revision }, sameTemplate };
}

/** The live object and the server-side apply dry-run of `object` over it; undefined when either fails. */
async function dryRun(
  cluster: Cluster,
  object: KubernetesObject,
  options: Options,
): Promise<{ live: KubernetesObject; result: KubernetesObject } | undefined> {
  const { apiVersion, kind } = object;
  const name = object.metadata?.name;
  if (!apiVersion || !kind || !name) return undefined;
  try {
    const path = await cluster.pathOf(apiVersion, kind, object.metadata?.namespace, name);
    const live = await cluster.request<KubernetesObject>('GET', path);
    const result = await cluster.request<KubernetesObject>('PATCH', path, {
      query: { fieldManager: options.fieldManager, force: false, fieldValidation: 'Strict', dryRun: 'All' },
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
    return { live, result };
  } catch {
    return undefined;
  }
}

/** The rollout of the live template is complete: nothing left for tracking to wait for. */
function rolledOut(d: V1Deployment): boolean {
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  return (
    (d.metadata?.generation ?? 0) <= (s.observedGeneration ?? -1) &&
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= want
  );
}

/** An object of this instance is live that the set no longer has: prune has work, the set is not unchanged. */
async function somethingToPrune(
  cluster: Cluster,
  objects: KubernetesObject[],
  options: Options,
): Promise<boolean> {
  const kept = new Set(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
  // prune's selector: the action's field manager is also the value of its managed-by label (render.ts)
  const selector = `${managedByLabel}=${options.fieldManager},${instanceLabel}=${options.instance}`;
  const found = await Promise.all(
    prunableKinds.map(async ({ apiVersion, kind }) => {
      try {
        if (!(await cluster.resource(apiVersion, kind))) return false;
        const path = await cluster.pathOf(apiVersion, kind, options.namespace);
        const list = await cluster.request<{ items: KubernetesObject[] }>('GET', path, {
          query: { labelSelector: selector },
        });
        return list.items.some(
          (i) => !i.metadata?.deletionTimestamp && !kept.has(`${kind}/${i.metadata?.name}`),
        );
      } catch (error) {
        return !isNotFound(error);
      }
    }),
  );
  return found.some(Boolean);
}
