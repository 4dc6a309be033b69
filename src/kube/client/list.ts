import type { KubernetesObject } from '@kubernetes/client-node';
import { instanceLabel, managedByLabel } from '../../names.js';
import { prunableKinds } from '../kinds.js';
import { type Cluster, KubeApiError } from './client.js';

// An instance's objects, kind by kind: what prune deletes, what the deploy lock and the teardown look for, and
// what an unchanged set must not leave behind. The kinds are the prunable ones of kube/kinds.ts.

export interface KindList {
  apiVersion: string;
  kind: string;
  /** the kind's collection in the namespace */
  path: string;
  items: KubernetesObject[];
}

/** The label selector of an instance's objects: managed-by=<managedBy>,instance=<instance> (render.ts sets both). */
export function instanceSelector(managedBy: string, instance: string): string {
  return `${managedByLabel}=${managedBy},${instanceLabel}=${instance}`;
}

/**
 * The objects of every prunable kind in the namespace that the label selector matches (all of them without
 * one), a list per kind in the table's order; a kind the cluster does not serve, or that the identity may not
 * list, is left out. The lists are
 * independent reads: asked for together.
 */
export async function listByKind(
  cluster: Cluster,
  namespace: string,
  labelSelector?: string,
  /** only these kinds (each still one of the prunable ones); every prunable kind when undefined */
  kinds?: ReadonlySet<string>,
): Promise<KindList[]> {
  const lists = await Promise.all(
    prunableKinds
      .filter(({ kind }) => kinds === undefined || kinds.has(kind))
      .map(async ({ apiVersion, kind }): Promise<KindList | undefined> => {
        if (!(await cluster.resource(apiVersion, kind))) return undefined;
        const path = await cluster.pathOf(apiVersion, kind, namespace);
        try {
          const list = await cluster.request<{ items: KubernetesObject[] }>('GET', path, {
            query: labelSelector ? { labelSelector } : {},
          });
          return { apiVersion, kind, path, items: list.items };
        } catch (error) {
          // a kind this identity may not list, it could not have applied either (a preview's HTTPRoutes, or a
          // cluster whose RBAC predates the kind): none of the instance's objects are of it
          if (error instanceof KubeApiError && error.status === 403) return undefined;
          throw error;
        }
      }),
  );
  return lists.filter((l) => l !== undefined);
}
