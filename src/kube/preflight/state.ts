import type { KubernetesObject, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import { type Namespace, readNamespace } from '../client/namespace.js';
import { podTemplateOf } from '../manifests/render.js';
import type { ResourceQuota } from './admission.js';
import type { IngressClass } from './ingress-class.js';
import type { LimitRange } from './pods.js';
import type { Lookup, ReferencedKind } from './references.js';

// What preflight reads of the cluster, each read once. Those that need no image (nodes, pods, limits,
// quotas, ingress classes) may be asked ahead, while the registry is (jobs/deploy/lock.ts says when their
// answers still count).

export type Read<T> = { ok: true; value: T } | { ok: false; error: unknown };
export const ok = <T>(value: T): Promise<Read<T>> => Promise.resolve({ ok: true, value });

export async function attempt<T>(fn: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Reads with answers cached per path; a missing namespace answers "empty" without asking. */
export class ClusterState {
  private readonly cache = new Map<string, Promise<Read<unknown>>>();
  private live: Promise<Namespace | undefined> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly namespace: string,
    known = false,
  ) {
    if (known) this.live = Promise.resolve({ status: { phase: 'Active' } });
  }

  private once<T>(key: string, fn: () => Promise<T>): Promise<Read<T>> {
    let hit = this.cache.get(key);
    if (!hit) {
      hit = attempt(fn);
      this.cache.set(key, hit);
    }
    return hit as Promise<Read<T>>;
  }

  /** The live namespace, undefined when it does not exist; asked once. */
  liveNamespace(): Promise<Namespace | undefined> {
    this.live ??= readNamespace(this.cluster, this.namespace);
    return this.live;
  }

  private async exists(): Promise<boolean> {
    return (await this.liveNamespace()) !== undefined;
  }

  list<T>(path: string, what: string, query: Record<string, string> = {}): Promise<Read<T[]>> {
    return this.once(`${path}?${new URLSearchParams(query)}`, async () => {
      try {
        return (await this.cluster.request<{ items: T[] }>('GET', path, { query })).items;
      } catch (error) {
        throw new Error(`cannot list ${what}: ${errorText(error)}`, { cause: error });
      }
    });
  }

  // The reads in the namespace go out with the namespace's own: what they answer counts only when it exists
  // (an identity with rights only in namespaces that exist is refused in one that does not).

  async namespaced<T>(plural: string): Promise<Read<T[]>> {
    return this.once(`ns:${plural}`, async () => {
      const [exists, list] = await Promise.all([
        this.exists(),
        this.list<T>(`/api/v1/namespaces/${this.namespace}/${plural}`, plural),
      ]);
      if (!exists) return [];
      if (!list.ok) throw list.error;
      return list.value;
    });
  }

  /** An object by path, undefined when it does not exist. */
  get<T>(path: string): Promise<Read<T | undefined>> {
    return this.once(path, async () => {
      const [exists, read] = await Promise.all([this.exists(), attempt(() => this.cluster.get<T>(path))]);
      if (!exists) return undefined;
      if (!read.ok) throw read.error;
      return read.value;
    });
  }

  async getObject(o: KubernetesObject, ns: string): Promise<Read<KubernetesObject | undefined>> {
    try {
      const path = await this.cluster.pathOf(o.apiVersion ?? '', o.kind ?? '', ns, o.metadata?.name);
      return this.get<KubernetesObject>(path);
    } catch (error) {
      return { ok: false, error };
    }
  }

  async lookup(
    kind: ReferencedKind,
    name: string,
    skip: (what: string, error: unknown) => void,
  ): Promise<Lookup | undefined> {
    const plural = kind === 'Secret' ? 'secrets' : kind === 'ConfigMap' ? 'configmaps' : 'serviceaccounts';
    const read = await this.get<KubernetesObject>(`/api/v1/namespaces/${this.namespace}/${plural}/${name}`);
    if (!read.ok) {
      skip(`${kind} '${name}'`, read.error);
      return undefined;
    }
    return read.value ? lookupOf(read.value) : { found: false };
  }
}

/** The reads of the set's checks that need no image: started at once, answered from the cache after. */
export function readsWithoutImage(
  state: ClusterState,
  set: { workloads: KubernetesObject[]; ingresses: KubernetesObject[]; deployments: V1Deployment[] },
) {
  return [
    set.workloads.length > 0 ? state.list<V1Node>('/api/v1/nodes', 'nodes') : ok<V1Node[]>([]),
    set.deployments.length > 0
      ? state.list<V1Pod>('/api/v1/pods', 'pods on the nodes', {
          fieldSelector: 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed',
        })
      : ok<V1Pod[]>([]),
    state.namespaced<LimitRange>('limitranges'),
    state.namespaced<ResourceQuota>('resourcequotas'),
    state.namespaced<V1Pod>('pods'),
    set.ingresses.length > 0
      ? state.list<IngressClass>('/apis/networking.k8s.io/v1/ingressclasses', 'ingress classes')
      : ok<IngressClass[]>([]),
  ] as const;
}

/** The set's shape, as preflight checks it: what makes pods, the Ingresses, the Deployments. */
export function shapeOf(objects: KubernetesObject[]) {
  const workloads = objects.filter((o) => podTemplateOf(o as Record<string, unknown>) !== undefined);
  return {
    workloads,
    ingresses: objects.filter((o) => o.kind === 'Ingress'),
    deployments: workloads.filter((w) => w.kind === 'Deployment') as V1Deployment[],
  };
}

/** What a reference check sees of an object: found, its data keys, a Secret's type. */
export function lookupOf(o: KubernetesObject): Lookup {
  const data = o as { data?: object; stringData?: object; binaryData?: object; type?: string };
  const keys = [
    ...Object.keys(data.data ?? {}),
    ...Object.keys(data.stringData ?? {}),
    ...Object.keys(data.binaryData ?? {}),
  ];
  return { found: true, keys, ...(o.kind === 'Secret' ? { type: data.type ?? 'Opaque' } : {}) };
}
