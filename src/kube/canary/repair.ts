import type { KubernetesObject } from '@kubernetes/client-node';
import { canaryLabel, managedBy } from '../../names.js';
import { ssa } from '../apply/ssa.js';
import { type Cluster, isNotFound } from '../client/client.js';
import { instanceSelector } from '../client/list.js';
import type { Release } from '../release/release.js';

// A run that was cancelled or lost mid-canary leaves the route split and the canary running. The next deploy
// puts the route back as the last deployed release wrote it and removes the canary, first: before anything
// of its own is applied, so that no user meets the half-judged revision again. (A rollback restores a
// release whole, route included, and prunes the canary the same way.)

type Listed = { items: KubernetesObject[] };

/** The canary's objects in the namespace: none unless a run left them. */
export interface LeftCanary {
  deployments: KubernetesObject[];
  services: KubernetesObject[];
}

/** Reads what a canary left; a deploy asks while preflight runs, under the same lock. */
export async function findLeftCanary(
  cluster: Cluster,
  namespace: string,
  instance: string,
): Promise<LeftCanary> {
  const ns = encodeURIComponent(namespace);
  const query = { labelSelector: `${instanceSelector(managedBy, instance)},${canaryLabel}=canary` };
  const [deployments, services] = await Promise.all([
    cluster.request<Listed>('GET', `/apis/apps/v1/namespaces/${ns}/deployments`, { query }),
    cluster.request<Listed>('GET', `/api/v1/namespaces/${ns}/services`, { query }),
  ]);
  return { deployments: deployments.items, services: services.items };
}

/** Repairs a canary left in the namespace; returns what was done ([] when there was none). */
export async function repairCanary(
  cluster: Cluster,
  namespace: string,
  instance: string,
  deployed: Release | undefined,
  found: Promise<LeftCanary> = findLeftCanary(cluster, namespace, instance),
): Promise<string[]> {
  const { deployments, services } = await found;
  const left = [...deployments, ...services];
  if (left.length === 0) return [];
  const done: string[] = [];
  for (const route of deployed?.objects.filter((o) => o.kind === 'HTTPRoute') ?? []) {
    const path = await cluster.pathOf(route.apiVersion ?? '', 'HTTPRoute', namespace, route.metadata?.name);
    await ssa(cluster, path, route, managedBy, true, false);
    done.push(`HTTPRoute/${route.metadata?.name} back to release ${deployed?.number}'s rules`);
  }
  for (const o of left) {
    const kind = o.kind ?? (deployments.includes(o) ? 'Deployment' : 'Service');
    const path = await cluster.pathOf(
      kind === 'Deployment' ? 'apps/v1' : 'v1',
      kind,
      namespace,
      o.metadata?.name,
    );
    await cluster.request('DELETE', path).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    done.push(`${kind}/${o.metadata?.name} deleted`);
  }
  return done;
}
