import type { KubernetesObject } from '@kubernetes/client-node';
import { handoverFieldManager } from '../../names.js';
import type { Cluster } from '../client/client.js';
import { kindOf } from '../kinds.js';
import type { Manifest } from '../manifests/load.js';

// A workload that a HorizontalPodAutoscaler scales (one in the set, or one already in the namespace) is
// applied without spec.replicas, so that no deploy resets the autoscaler's scale. Dropping a field we own
// would reset it to its default, so ownership is handed over first, as the Kubernetes documentation on
// server-side apply describes for autoscalers ("Transferring ownership").

export interface Autoscaler {
  metadata?: { name?: string };
  spec?: { scaleTargetRef?: { kind?: string; name?: string } };
}

/** The namespace's HorizontalPodAutoscalers: none where the cluster serves no autoscaling/v2. */
export async function readAutoscalers(cluster: Cluster, namespace: string): Promise<Autoscaler[]> {
  if (!(await cluster.resource('autoscaling/v2', 'HorizontalPodAutoscaler'))) return [];
  const live = await cluster.get<{ items: Autoscaler[] }>(
    `/apis/autoscaling/v2/namespaces/${encodeURIComponent(namespace)}/horizontalpodautoscalers`,
  );
  return live?.items ?? [];
}

/** "Kind/name" of each workload an autoscaler targets -> "HorizontalPodAutoscaler/<its name>". */
export async function autoscaledTargets(
  cluster: Cluster,
  namespace: string,
  set: KubernetesObject[],
  live: Promise<Autoscaler[]> = readAutoscalers(cluster, namespace),
): Promise<Map<string, string>> {
  const autoscalers: Autoscaler[] = [
    ...set.filter((o) => o.kind === 'HorizontalPodAutoscaler'),
    ...(await live),
  ];
  const targets = new Map<string, string>();
  for (const a of autoscalers) {
    const ref = a.spec?.scaleTargetRef;
    if (ref?.kind && ref.name && kindOf(ref.kind)?.scalable)
      targets.set(`${ref.kind}/${ref.name}`, `HorizontalPodAutoscaler/${a.metadata?.name}`);
  }
  return targets;
}

/** The set with spec.replicas left out of every autoscaled workload (pure); `left` names them. */
export function withoutReplicas(
  set: KubernetesObject[],
  targets: Map<string, string>,
): { objects: KubernetesObject[]; left: { workload: string; autoscaler: string }[] } {
  const left: { workload: string; autoscaler: string }[] = [];
  const objects = set.map((o) => {
    const workload = `${o.kind}/${o.metadata?.name}`;
    const autoscaler = targets.get(workload);
    const spec = (o as { spec?: Record<string, unknown> }).spec;
    if (!autoscaler || !spec || !('replicas' in spec)) return o;
    left.push({ workload, autoscaler });
    const { replicas: _replicas, ...rest } = spec;
    return { ...o, spec: rest } as KubernetesObject;
  });
  return { objects, left };
}

type Live = KubernetesObject & { spec?: { replicas?: number } };

/**
 * For each autoscaled workload whose spec.replicas our field manager owns, another manager applies the live
 * value first: when our apply then leaves the field out, the value stays instead of falling back to its
 * default. Returns the workloads handed over, with their replicas.
 */
export async function handOverReplicas(
  cluster: Cluster,
  namespace: string,
  workloads: string[],
  fieldManager: string,
): Promise<{ workload: string; replicas: number }[]> {
  const handed: { workload: string; replicas: number }[] = [];
  for (const workload of workloads) {
    const [kind = '', name = ''] = workload.split('/');
    const path = await cluster.pathOf('apps/v1', kind, namespace, name);
    const live = await cluster.get<Live>(path);
    if (!live || live.spec?.replicas === undefined || !ownsReplicas(live, fieldManager)) continue;
    await cluster.request('PATCH', path, {
      // the field manager that holds spec.replicas between our letting go and the autoscaler's next change
      query: { fieldManager: handoverFieldManager, force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'apps/v1',
        kind,
        metadata: { name, namespace },
        spec: { replicas: live.spec.replicas },
      },
    });
    handed.push({ workload, replicas: live.spec.replicas });
  }
  return handed;
}

function ownsReplicas(live: KubernetesObject, fieldManager: string): boolean {
  return (live.metadata?.managedFields ?? []).some((f) => {
    const fields = f.fieldsV1 as { 'f:spec'?: Record<string, unknown> } | undefined;
    return (
      f.manager === fieldManager &&
      f.operation === 'Apply' &&
      fields?.['f:spec']?.['f:replicas'] !== undefined
    );
  });
}

/**
 * The set without spec.replicas where an autoscaler (in the set or live) scales the workload; `workloads`
 * names those, `live` holds each with the autoscaler's current replicas (what preflight checks capacity at).
 */
export async function leaveReplicasToAutoscalers(
  cluster: Cluster,
  namespace: string,
  objects: Manifest[],
  log: (line: string) => void,
  /** the namespace's autoscalers, when already asked for (readAutoscalers) */
  autoscalers?: Promise<Autoscaler[]>,
): Promise<{ objects: Manifest[]; workloads: string[]; live: Map<string, KubernetesObject> }> {
  const set = objects.map((m) => m.object);
  const targets = await autoscaledTargets(cluster, namespace, set, autoscalers);
  const { objects: stripped, left } = withoutReplicas(set, targets);
  const live = new Map<string, KubernetesObject>();
  for (const l of left) {
    const object = stripped.find((o) => `${o.kind}/${o.metadata?.name}` === l.workload);
    const path = await cluster.pathOf('apps/v1', object?.kind ?? '', namespace, object?.metadata?.name);
    const replicas = (await cluster.get<Live>(path))?.spec?.replicas;
    if (object && replicas !== undefined)
      live.set(l.workload, {
        ...object,
        spec: { ...(object as { spec?: object }).spec, replicas },
      } as KubernetesObject);
    log(
      `${l.workload}: spec.replicas is left to ${l.autoscaler}${replicas === undefined ? '' : ` (now ${replicas})`}; the manifests' replicas are not applied`,
    );
  }
  return {
    objects: objects.map((m, i) => ({ ...m, object: (stripped[i] ?? m.object) as Manifest['object'] })),
    workloads: left.map((l) => l.workload),
    live,
  };
}
