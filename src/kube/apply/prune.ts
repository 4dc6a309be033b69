import type { KubernetesObject } from '@kubernetes/client-node';
import { managedBy, previewGuardNames, rollbackFieldManager } from '../../names.js';
import { errorText } from '../../util/errors.js';
import { type Cluster, isNotFound } from '../client/client.js';
import { instanceSelector, listByKind } from '../client/list.js';

// Pruning: what the action applied for an instance and the set no longer has is deleted, once the new
// release is proven. Every prunable kind of kube/kinds.ts is looked at (everything the action applies that
// the deployer role may delete), never a PersistentVolumeClaim (its data would go with it).

export interface PrunedObject {
  kind: string;
  name: string;
  namespace: string;
}

/** An object prune would delete, found by `findPrunable`. */
export interface Prunable {
  kind: string;
  name: string;
  /** its collection's path */
  path: string;
}

/**
 * Deletes objects labelled managed-by=<managedBy> and instance=<instance> in the namespace that are not in
 * `keep` (the set just applied), and that the action itself applied (its field manager is among theirs):
 * anything unlabelled, or labelled so by hand, is left alone.
 */
export async function prune(
  cluster: Cluster,
  namespace: string,
  instance: string,
  keep: KubernetesObject[],
  options: { managedBy?: string } = {},
): Promise<PrunedObject[]> {
  return deletePrunable(cluster, namespace, await findPrunable(cluster, namespace, instance, keep, options));
}

/**
 * What prune would delete, read without deleting anything: a deploy reads it with its endpoint checks (under
 * its lock nothing else writes the instance's objects) and deletes only once the release is proven.
 */
export async function findPrunable(
  cluster: Cluster,
  namespace: string,
  instance: string,
  keep: KubernetesObject[],
  options: { managedBy?: string; kinds?: ReadonlySet<string> } = {},
): Promise<Prunable[]> {
  const manager = options.managedBy ?? managedBy;
  const appliedByUs = (o: KubernetesObject) =>
    (o.metadata?.managedFields ?? []).some(
      (f) => f.manager === manager || f.manager === rollbackFieldManager,
    );
  const kept = new Set(keep.map((o) => `${o.kind}/${o.metadata?.name}`));
  const lists = await listByKind(cluster, namespace, instanceSelector(manager, instance), options.kinds);
  return lists.flatMap(({ kind, path, items }) =>
    items
      .filter((item) => {
        const name = item.metadata?.name ?? '';
        // a preview's isolation goes only with its namespace, even when an older release lacked it
        return (
          !kept.has(`${kind}/${name}`) &&
          !previewGuardNames.has(name) &&
          !item.metadata?.deletionTimestamp &&
          appliedByUs(item)
        );
      })
      .map((item) => ({ kind, name: item.metadata?.name ?? '', path })),
  );
}

/** Deletes what findPrunable found, one by one, in order; one already gone is skipped. */
export async function deletePrunable(
  cluster: Cluster,
  namespace: string,
  found: Prunable[],
): Promise<PrunedObject[]> {
  const pruned: PrunedObject[] = [];
  for (const { kind, name, path } of found) {
    try {
      await cluster.request('DELETE', `${path}/${encodeURIComponent(name)}`, {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
    } catch (error) {
      if (isNotFound(error)) continue;
      throw new Error(
        `prune: cannot delete ${kind}/${name} in namespace '${namespace}' (${errorText(error)}); already deleted: ${
          pruned.map((p) => `${p.kind}/${p.name}`).join(', ') || 'nothing'
        }`,
        { cause: error },
      );
    }
    pruned.push({ kind, name, namespace });
  }
  return pruned;
}
