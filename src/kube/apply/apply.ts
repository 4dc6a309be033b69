import type { KubernetesObject } from '@kubernetes/client-node';
import { handoverFieldManager, managedByLabel, rollbackFieldManager } from '../../names.js';
import { errorText } from '../../util/errors.js';
import { type Cluster, describeObject } from '../client/client.js';
import { applyNamespace, deleteNamespace, namespaceExists } from '../client/namespace.js';
import { applyOrder, applyStage } from '../kinds.js';
import { sameObject } from '../manifests/json.js';
import { adoptHandEdits, handEdits, removedFields } from './adopt.js';
import { explain } from './conflicts.js';
import { dryRun } from './dry-run.js';
import { deleteAndWait, ssa } from './ssa.js';
import type { ApplyOptions, ApplyResult, Planned, TakenOver } from './types.js';

// Server-side apply in the manner of fluxcd/pkg ssa: dry-run the whole set first (nothing is written unless
// every object passes), compare each dry-run result with the live object to skip what is unchanged (so an
// unchanged Deployment gets no new revision), then apply in dependency order. The dry-run of one object is
// dry-run.ts, the sentences API errors become conflicts.ts, the deletion of what left the set prune.ts.

export { handEdits } from './adopt.js';
export { isKubectlManager, kubectlManagers } from './conflicts.js';
export { deletePrunable, findPrunable, type Prunable, type PrunedObject, prune } from './prune.js';
export { ssa } from './ssa.js';
export type {
  AppliedObject,
  ApplyAction,
  ApplyOptions,
  ApplyResult,
  DryRun,
  TakenOver,
} from './types.js';

export async function applySet(
  cluster: Cluster,
  objects: KubernetesObject[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  const own = new Set(
    options.ownManagers ?? [
      options.fieldManager,
      rollbackFieldManager,
      // holds spec.replicas once an autoscaler took a workload over (autoscale.ts)
      handoverFieldManager,
    ],
  );
  const sorted = objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => applyOrder(a.o.kind) - applyOrder(b.o.kind) || a.i - b.i)
    .map(({ o }) => o);

  const namespaceCreated =
    (!options.namespaceExists && (await createNamespaceOfSet(cluster, options, sorted))) ||
    options.ownsNamespace === true;
  const at = (o: KubernetesObject) => {
    const source = options.sourceOf?.(o.kind ?? '', o.metadata?.name ?? '');
    return source ? `${source} ` : '';
  };
  // each object's dry-run is independent of the others': asked for together, reported in the set's order
  const outcomes = await Promise.all(
    sorted.map(async (object) => {
      const reclaimed: string[] = [];
      const takenOver: TakenOver[] = [];
      try {
        const plan = await dryRun(cluster, object, options, own, reclaimed, takenOver);
        // what kubectl changed by hand: adopted before the write, so that what the manifests lack goes
        const existing = plan.action === 'configured' || plan.action === 'unchanged';
        const known = options.dryRuns?.get(object);
        const live = !existing
          ? undefined
          : known
            ? known.live
            : await cluster.get<KubernetesObject>(plan.path);
        return { plan, reclaimed, takenOver, live: handEdits(live).length > 0 ? live : undefined };
      } catch (error) {
        return { error: `${at(object)}${errorText(error)}`, reclaimed, takenOver };
      }
    }),
  );
  const planned = outcomes.flatMap((o) => (o.plan ? [o.plan] : []));
  const handEdited = new Map(outcomes.flatMap((o) => (o.plan && o.live ? [[o.plan, o.live] as const] : [])));
  const errors = outcomes.flatMap((o) => (o.error ? [o.error] : []));
  const reclaimed = outcomes.flatMap((o) => o.reclaimed);
  const takenOver = outcomes.flatMap((o) => o.takenOver);
  if (errors.length > 0) {
    let undone = '';
    if (namespaceCreated) {
      await deleteNamespace(cluster, options.namespace);
      undone = ` (namespace '${options.namespace}', created for this apply, was deleted again)`;
    }
    throw new Error(
      `Server-side dry-run rejected ${errors.length} of ${sorted.length} objects; nothing was applied${undone}:\n- ${errors.join('\n- ')}`,
    );
  }

  options.signal?.throwIfAborted();
  await options.beforeWrite?.();
  const done: string[] = [];
  const write = async (p: Planned) => {
    const live = handEdited.get(p);
    if (p.action === 'unchanged' && !live) return;
    if (namespaceCreated && p.object.kind === 'Namespace' && p.object.metadata?.name === options.namespace)
      return;
    if (p.action === 'replaced') await deleteAndWait(cluster, p.path);
    const adopted = live && (await adoptHandEdits(cluster, p.path, options.fieldManager, live));
    const written = await ssa(cluster, p.path, p.object, options.fieldManager, p.force, false);
    if (adopted && live) {
      const [kind, name] = [p.object.kind ?? '', p.object.metadata?.name ?? ''];
      takenOver.push(...removedFields(kind, name, adopted, written, options.fieldManager, live));
      if (p.action === 'unchanged' && !sameObject(live, written)) p.action = 'configured';
    }
    done.push(describeObject(p.object));
  };
  // tier by tier, each tier's objects at once (as fluxcd's staged apply): what pods need at start is live
  // before the workloads that start them
  const writeAll = async (objects: Planned[]) => {
    for (const tier of tiers(objects)) {
      options.signal?.throwIfAborted();
      const outcomes = await Promise.allSettled(tier.map(write));
      const failed = outcomes.findIndex((o) => o.status === 'rejected');
      const outcome = outcomes[failed];
      const p = tier[failed];
      if (outcome?.status === 'rejected' && p)
        throw new Error(
          `${at(p.object)}${describeObject(p.object)}: apply failed after a successful dry-run (${explain(outcome.reason, p.object, options.namespace)}); ` +
            `already applied: ${done.join(', ') || 'nothing'}. Deploy again once the cause is fixed.`,
          { cause: outcome.reason },
        );
    }
  };
  const first = options.firstStage;
  if (first) {
    await writeAll(planned.filter((p) => first.select(p.object)));
    await first.run();
  }
  await writeAll(planned.filter((p) => !first?.select(p.object)));
  return {
    objects: planned.map((p) => ({
      apiVersion: p.object.apiVersion ?? '',
      kind: p.object.kind ?? '',
      name: p.object.metadata?.name ?? '',
      ...(p.object.metadata?.namespace ? { namespace: p.object.metadata.namespace } : {}),
      action: p.action,
    })),
    namespaceCreated,
    reclaimed,
    takenOver,
  };
}

/**
 * Creates the namespace the set goes to when it does not exist, from the set's own Namespace object or a
 * labelled one: true when it was made here. One being deleted throws (namespaceExists).
 */
async function createNamespaceOfSet(
  cluster: Cluster,
  options: ApplyOptions,
  objects: KubernetesObject[],
): Promise<boolean> {
  if (await namespaceExists(cluster, options.namespace)) return false;
  const fromSet = objects.find((o) => o.kind === 'Namespace' && o.metadata?.name === options.namespace);
  const namespace: KubernetesObject = fromSet ?? {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: options.namespace, labels: { [managedByLabel]: options.fieldManager } },
  };
  try {
    await applyNamespace(cluster, namespace, { fieldManager: options.fieldManager, force: options.force });
  } catch (error) {
    throw new Error(
      `cannot create namespace '${options.namespace}': ${explain(error, namespace, options.namespace)}`,
      { cause: error },
    );
  }
  return true;
}

/** Write stages (kube/kinds.ts): the namespace; what admission and pods read at start; the rest. */
function tiers(planned: Planned[]): Planned[][] {
  return [0, 1, 2]
    .map((t) => planned.filter((p) => applyStage(p.object.kind) === t))
    .filter((t) => t.length > 0);
}
