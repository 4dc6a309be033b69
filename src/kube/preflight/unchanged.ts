import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { type AppliedObject, type DryRun, handEdits, ssa } from '../apply/apply.js';
import { type Cluster, isNotFound } from '../client/client.js';
import { instanceSelector, listByKind } from '../client/list.js';
import { sameJson, sameObject } from '../manifests/json.js';
import { revisionOf } from '../rollout/deployment.js';
import { statusOf } from '../rollout/status.js';

// A redeploy of what is live (a rerun, or a push that changed nothing the cluster sees) should apply
// nothing, make no revision, and finish in a second. Decided the way applySet decides it per object (a
// server-side apply dry-run equal to the live object), for the whole set, before any check or apply, all
// reads at once. Any doubt (an object missing, a conflict, an error) means "changed", and the normal path,
// which reports it properly, runs.

export interface Unchanged {
  objects: AppliedObject[];
  /** the revision the (last) Deployment serves */
  revision: number;
}

export interface LiveComparison {
  /** set when the whole set equals what is live and every workload is rolled out (rollout/status.ts) */
  unchanged?: Unchanged;
  /** Deployments whose pod template the apply leaves as it is (no rollout, no surge) */
  sameTemplate: Set<string>;
  /** the live objects of the set, by Kind/name, as read for the comparison */
  live: Map<string, KubernetesObject>;
  /** each object's server-side apply dry-run that passed (without force), by the object given */
  dryRuns: Map<KubernetesObject, DryRun>;
}

type Options = { namespace: string; instance: string; fieldManager: string };

/**
 * `namespace` is the live namespace, read by the caller (undefined: missing). The reads and dry-runs go out
 * together with it; their answers count only when it is Active.
 */
export async function compareWithLive(
  cluster: Cluster,
  objects: KubernetesObject[],
  options: Options,
  namespace: Promise<{ status?: { phase?: string } } | undefined>,
): Promise<LiveComparison> {
  const sameTemplate = new Set<string>();
  const live = new Map<string, KubernetesObject>();
  const dryRuns = new Map<KubernetesObject, DryRun>();
  // the Deployments first: the revision reported is the last Deployment's
  const ordered = [
    ...objects.filter((o) => o.kind === 'Deployment'),
    ...objects.filter((o) => o.kind !== 'Deployment'),
  ];
  // the dry-runs are independent reads: asked for together (a set is a handful of objects)
  const results = Promise.all(ordered.map((object) => dryRun(cluster, object, options)));
  const ns = await namespace.catch(() => undefined);
  const compared = await results;
  if (ns?.status?.phase !== 'Active') return { sameTemplate, live, dryRuns };
  let revision = 0;
  let changed = false;
  const done: AppliedObject[] = [];
  for (const [i, object] of ordered.entries()) {
    const read = compared[i];
    if (read?.result && read.readLive)
      dryRuns.set(object, { live: read.live, result: read.result, warnings: read.warnings });
    if (read?.live) live.set(`${object.kind}/${object.metadata?.name}`, read.live);
    if (!read?.result || !read.live) {
      changed = true;
      continue;
    }
    const { result } = read;
    const current = read.live;
    const name = object.metadata?.name ?? '';
    if (object.kind === 'Deployment') {
      const spec = (o: KubernetesObject) => (o as V1Deployment).spec?.template;
      if (sameJson(spec(current), spec(result))) sameTemplate.add(name);
      revision = revisionOf(current);
    }
    // a workload still rolling out (or failed) is left to tracking, which reads the same status
    if (statusOf(current).status !== 'Current') changed = true;
    // a kubectl edit the manifests do not hold is undone by the apply (kube/apply/adopt.ts)
    if (handEdits(current).length > 0) changed = true;
    if (!sameObject(current, result)) changed = true;
    done.push({
      apiVersion: object.apiVersion ?? '',
      kind: object.kind ?? '',
      name,
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
      action: 'unchanged',
    });
  }
  if (changed || (await somethingToPrune(cluster, objects, options))) return { sameTemplate, live, dryRuns };
  return { unchanged: { objects: done, revision }, sameTemplate, live, dryRuns };
}

/**
 * The live object and the server-side apply dry-run of `object` over it, asked at once; either is undefined
 * when it fails (a missing object, a conflict, an error).
 */
async function dryRun(
  cluster: Cluster,
  object: KubernetesObject,
  options: Options,
): Promise<
  { live?: KubernetesObject; readLive: boolean; result?: KubernetesObject; warnings: string[] } | undefined
> {
  const { apiVersion, kind } = object;
  const name = object.metadata?.name;
  if (!apiVersion || !kind || !name) return undefined;
  const warnings: string[] = [];
  try {
    const path = await cluster.pathOf(apiVersion, kind, object.metadata?.namespace, name);
    // readLive: the live object was read, or is known not to exist
    const [read, result] = await Promise.all([
      cluster.get<KubernetesObject>(path).then(
        (live) => ({ live, readLive: true }),
        () => ({ live: undefined, readLive: false }),
      ),
      ssa(cluster, path, object, options.fieldManager, false, true, warnings).catch(() => undefined),
    ]);
    return { ...read, result, warnings };
  } catch {
    return undefined;
  }
}

/** An object of this instance is live that the set no longer has: prune has work, the set is not unchanged. */
async function somethingToPrune(
  cluster: Cluster,
  objects: KubernetesObject[],
  options: Options,
): Promise<boolean> {
  const kept = new Set(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
  // prune's selector: the action's field manager is also the value of its managed-by label (render.ts)
  const lists = await listByKind(
    cluster,
    options.namespace,
    instanceSelector(options.fieldManager, options.instance),
  ).catch((error: unknown) => {
    // unreadable: not known to be unchanged
    if (isNotFound(error)) return [];
    return undefined;
  });
  if (!lists) return true;
  return lists.some((l) =>
    l.items.some((i) => !i.metadata?.deletionTimestamp && !kept.has(`${l.kind}/${i.metadata?.name}`)),
  );
}
