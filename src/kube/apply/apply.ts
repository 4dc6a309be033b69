import type { KubernetesObject } from '@kubernetes/client-node';
import {
  handoverFieldManager,
  instanceLabel,
  managedBy,
  managedByLabel,
  previewGuardNames,
  rollbackFieldManager,
} from '../../names.js';
import { errorText } from '../../util/errors.js';
import { poll } from '../../util/retry.js';
import {
  type Cluster,
  describeObject,
  isNotFound,
  KubeApiError,
  type StatusCause,
} from '../client/client.js';
import { namespaceExists } from '../client/namespace.js';
import { applyOrder, applyStage, prunableKinds } from '../kinds.js';
import { sameObject } from '../manifests/json.js';

// Server-side apply in the manner of fluxcd/pkg ssa: dry-run the whole set first (nothing is written unless
// every object passes), compare each dry-run result with the live object to skip what is unchanged (so an
// unchanged Deployment gets no new revision), then apply in dependency order.

/** 'replaced': a Job whose pod template changed, deleted and created anew (its template is immutable) */
export type ApplyAction = 'created' | 'configured' | 'replaced' | 'unchanged';

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  action: ApplyAction;
}

export interface ApplyOptions {
  fieldManager: string;
  /** take over fields owned by other managers (input 'force-conflicts') */
  force: boolean;
  /** where the namespaced objects go; created when missing */
  namespace: string;
  /**
   * Managers whose fields are ours to take back without 'force-conflicts'. Defaults to the field manager and
   * the rollback's and the autoscaler handover's (names.ts), so the deploy after a rollback is not a conflict.
   */
  ownManagers?: string[];
  /** a dry-run whose answer warns that pods would violate Pod Security fails the set (previews) */
  podSecurityFails?: boolean;
  /** the namespace was made for this deploy (a preview's): deleted again when the dry-run fails */
  ownsNamespace?: boolean;
  /** where an object comes from ("k8s/deployment.yaml:1"), named in front of every error about it */
  sourceOf?: (kind: string, name: string) => string | undefined;
  /** a cancelled run: no write starts once it is aborted */
  signal?: AbortSignal;
  /**
   * Dry-runs already passed for these very objects (preflight's, under the same deploy lock, so nothing else
   * wrote since): not asked again. An object without one is dry-run here.
   */
  dryRuns?: Map<KubernetesObject, DryRun>;
  /** the namespace is known to exist (the deploy lock made or found it): not asked again */
  namespaceExists?: boolean;
  /** called once the whole set has passed the dry-run, before the first write (the release record) */
  beforeWrite?: () => Promise<void>;
  /**
   * Staged apply: the objects `select` picks are written first, then `run` is awaited (pre-deploy Jobs run
   * to completion), then the rest. A failure of `run` leaves the rest unwritten.
   */
  firstStage?: { select: (object: KubernetesObject) => boolean; run: () => Promise<void> };
}

/** A passed server-side apply dry-run: the live object (none: a create), the result and its warnings. */
export interface DryRun {
  live?: KubernetesObject;
  result: KubernetesObject;
  warnings: string[];
}

export interface ApplyResult {
  objects: AppliedObject[];
  /** the namespace did not exist and was created */
  namespaceCreated: boolean;
  /** fields taken back from our own managers, as "Kind/name .field (manager)" */
  reclaimed: string[];
  /** fields taken over from kubectl (objects made or changed by hand) */
  takenOver: TakenOver[];
}

export interface TakenOver {
  kind: string;
  name: string;
  field: string;
  /** the kubectl field manager, e.g. kubectl-client-side-apply */
  manager: string;
  /** the live value it had, where the field is a plain path */
  was?: unknown;
}

/**
 * kubectl's own field managers: what a user made or changed by hand with kubectl is taken over without
 * 'force-conflicts', as kubectl's own migration to server-side apply and fluxcd's ssa do. Only the fields in
 * conflict change hands; the last-applied-configuration annotation stays kubectl's, so that a later
 * `kubectl apply` of the same files computes no change and reverts nothing.
 */
export const kubectlManagers: ReadonlySet<string> = new Set([
  'kubectl-client-side-apply',
  'kubectl',
  'kubectl-create',
  'kubectl-edit',
  'kubectl-patch',
  'kubectl-replace',
  'kubectl-scale',
  'kubectl-set',
  'kubectl-label',
  'kubectl-annotate',
  'kubectl-rollout',
  'before-first-apply',
]);

const applyPatch = 'application/apply-patch+yaml';

/** Write stages (kube/kinds.ts): the namespace; what admission and pods read at start; the rest. */
function tiers(planned: Planned[]): Planned[][] {
  return [0, 1, 2]
    .map((t) => planned.filter((p) => applyStage(p.object.kind) === t))
    .filter((t) => t.length > 0);
}

interface Planned {
  object: KubernetesObject;
  path: string;
  action: ApplyAction;
  force: boolean;
}

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
    (!options.namespaceExists && (await ensureNamespace(cluster, options, sorted))) ||
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
        return { plan, reclaimed, takenOver };
      } catch (error) {
        return { error: `${at(object)}${errorText(error)}`, reclaimed, takenOver };
      }
    }),
  );
  const planned = outcomes.flatMap((o) => (o.plan ? [o.plan] : []));
  const errors = outcomes.flatMap((o) => (o.error ? [o.error] : []));
  const reclaimed = outcomes.flatMap((o) => o.reclaimed);
  const takenOver = outcomes.flatMap((o) => o.takenOver);
  if (errors.length > 0) {
    let undone = '';
    if (namespaceCreated) {
      await deleteQuietly(cluster, `/api/v1/namespaces/${options.namespace}`);
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
    if (p.action === 'unchanged') return;
    if (namespaceCreated && p.object.kind === 'Namespace' && p.object.metadata?.name === options.namespace)
      return;
    if (p.action === 'replaced') await deleteAndWait(cluster, p.path);
    await ssa(cluster, p.path, p.object, options.fieldManager, p.force, false);
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

async function ensureNamespace(
  cluster: Cluster,
  options: ApplyOptions,
  objects: KubernetesObject[],
): Promise<boolean> {
  const path = `/api/v1/namespaces/${options.namespace}`;
  if (await namespaceExists(cluster, options.namespace)) return false;
  const fromSet = objects.find((o) => o.kind === 'Namespace' && o.metadata?.name === options.namespace);
  const namespace: KubernetesObject = fromSet ?? {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: options.namespace, labels: { [managedByLabel]: options.fieldManager } },
  };
  try {
    await ssa(cluster, path, namespace, options.fieldManager, options.force, false);
  } catch (error) {
    throw new Error(
      `cannot create namespace '${options.namespace}': ${explain(error, namespace, options.namespace)}`,
    );
  }
  return true;
}

async function dryRun(
  cluster: Cluster,
  input: KubernetesObject,
  options: ApplyOptions,
  own: Set<string>,
  reclaimed: string[],
  takenOver: TakenOver[],
): Promise<Planned> {
  const { apiVersion, kind } = input;
  const name = input.metadata?.name;
  if (!apiVersion || !kind || !name)
    throw new Error(`${describeObject(input)}: apiVersion, kind and metadata.name are required`);
  const info = await cluster.resource(apiVersion, kind);
  if (!info)
    throw new Error(
      `${kind}/${name}: ${kind} in ${apiVersion} is not served by this cluster; check apiVersion`,
    );
  let object = input;
  if (info.namespaced) {
    const ns = input.metadata?.namespace;
    if (ns && ns !== options.namespace)
      throw new Error(
        `${kind}/${name}: metadata.namespace is '${ns}' but this deploy targets namespace '${options.namespace}'`,
      );
    if (!ns) object = { ...input, metadata: { ...input.metadata, namespace: options.namespace } };
  }
  const path = await cluster.pathOf(apiVersion, kind, object.metadata?.namespace, name);
  const known = options.dryRuns?.get(input);
  if (known) {
    await checkPodSecurity(cluster, known.warnings, kind, name, options);
    return { object, path, action: actionOf(known.live, known.result), force: options.force };
  }
  let force = options.force;
  const warnings: string[] = [];
  // the live object and the dry-run are independent reads: asked at once
  const [read, dry] = await Promise.allSettled([
    cluster.request<KubernetesObject>('GET', path),
    ssa(cluster, path, object, options.fieldManager, force, true, warnings),
  ]);
  if (read.status === 'rejected' && !isNotFound(read.reason))
    throw new Error(`${kind}/${name}: cannot read the live object: ${errorText(read.reason)}`);
  const live = read.status === 'fulfilled' ? read.value : undefined;
  let result: KubernetesObject;
  if (dry.status === 'fulfilled') result = dry.value;
  else {
    const error: unknown = dry.reason;
    const conflicts = conflictsOf(error);
    if (kind === 'Job' && live && isImmutable(error)) {
      // a Job runs its template once: a new template is a new run, so the Job is replaced
      await dryRunCreate(cluster, object).catch((e) => {
        throw new Error(explain(e, object, options.namespace));
      });
      return { object, path, action: 'replaced', force };
    }
    const ours = (c: Conflict) => own.has(c.manager) || kubectlManagers.has(c.manager);
    if (!force && conflicts.length > 0 && conflicts.every(ours)) {
      // fields last written by our own rollback, or by hand with kubectl: ours to take
      force = true;
      result = await ssa(cluster, path, object, options.fieldManager, true, true, warnings).catch((e) => {
        throw new Error(explain(e, object, options.namespace, live));
      });
      for (const c of conflicts)
        if (own.has(c.manager)) reclaimed.push(`${kind}/${name} ${c.field} (${c.owner})`);
        else
          takenOver.push({
            kind,
            name,
            field: c.field,
            manager: c.manager,
            was: valueAt(live, c.field.replace(/^\./, '')),
          });
    } else {
      throw new Error(explain(error, object, options.namespace, live));
    }
  }
  await checkPodSecurity(cluster, warnings, kind, name, options);
  return { object, path, action: actionOf(live, result), force };
}

/** What applying does to the live object (none: a create), judged by the dry-run's result. */
function actionOf(live: KubernetesObject | undefined, result: KubernetesObject): ApplyAction {
  return !live ? 'created' : sameObject(live, result) ? 'unchanged' : 'configured';
}

/**
 * A dry-run whose answer warns that pods would violate Pod Security fails the set where options say so
 * (previews), or where the namespace enforces the level warned of (production's, rbac/production.yaml): its
 * pods would be refused, and the rollout would only wait for its deadline.
 */
async function checkPodSecurity(
  cluster: Cluster,
  warnings: string[],
  kind: string,
  name: string,
  options: ApplyOptions,
): Promise<void> {
  const podSecurity = warnings.filter((w) => /would violate PodSecurity/.test(w));
  if (podSecurity.length === 0) return;
  let enforced = options.podSecurityFails === true;
  if (!enforced) {
    const level = /would violate PodSecurity "([a-z]+):/.exec(podSecurity[0] ?? '')?.[1];
    const namespace = await cluster.request<KubernetesObject>(
      'GET',
      `/api/v1/namespaces/${encodeURIComponent(options.namespace)}`,
    );
    enforced = level !== undefined && namespace.metadata?.labels?.[enforceLabel] === level;
  }
  if (enforced)
    throw new Error(
      `${kind}/${name}: its pods would be refused by namespace '${options.namespace}', which enforces the restricted Pod Security Standard: ${podSecurity.join('; ')}; give the pod template the securityContext of k8s/deployment.yaml (docs/github-setup.md)`,
    );
}

const enforceLabel = 'pod-security.kubernetes.io/enforce';

function isImmutable(error: unknown): boolean {
  return (
    error instanceof KubeApiError &&
    error.status === 422 &&
    (error.causes.some((c) => /field is immutable/.test(c.message ?? '')) ||
      /field is immutable/.test(error.serverMessage))
  );
}

/** The create a replacement will make, checked under a generated name (the live object holds the real one). */
async function dryRunCreate(cluster: Cluster, object: KubernetesObject): Promise<void> {
  const { name, resourceVersion: _rv, ...metadata } = object.metadata ?? {};
  const collection = await cluster.pathOf(object.apiVersion ?? '', object.kind ?? '', metadata.namespace);
  await cluster.request('POST', collection, {
    query: { fieldValidation: 'Strict', dryRun: 'All' },
    body: { ...object, metadata: { ...metadata, generateName: `${name}-` } },
  });
}

/** Deletes the object (its pods first) and waits, bounded, until its name is free again. */
async function deleteAndWait(cluster: Cluster, path: string, timeoutMs = 120_000): Promise<void> {
  await cluster
    .request('DELETE', path, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' },
    })
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  const gone = await poll(
    () =>
      cluster.request('GET', path).then(
        () => undefined,
        (error: unknown) => {
          if (isNotFound(error)) return true;
          throw error;
        },
      ),
    { timeoutMs, intervalMs: 500 },
  );
  if (!gone)
    throw new Error(`${path} was deleted to be replaced but is still there after ${timeoutMs / 1000} s`);
}

/** A server-side apply of `object` at `path` (as a dry-run, or written), with strict field validation. */
export function ssa(
  cluster: Cluster,
  path: string,
  object: KubernetesObject,
  fieldManager: string,
  force: boolean,
  dryRun: boolean,
  warnings?: string[],
): Promise<KubernetesObject> {
  return cluster.request<KubernetesObject>('PATCH', path, {
    query: { fieldManager, force, fieldValidation: 'Strict', dryRun: dryRun ? 'All' : undefined },
    body: object,
    contentType: applyPatch,
    warnings,
  });
}

interface Conflict {
  field: string;
  /** e.g. "kubectl-edit" using apps/v1 */
  owner: string;
  manager: string;
}

function conflictsOf(error: unknown): Conflict[] {
  if (!(error instanceof KubeApiError) || error.status !== 409) return [];
  return error.causes
    .filter((c) => c.reason === 'FieldManagerConflict' || /^conflict with /.test(c.message ?? ''))
    .map((c: StatusCause) => {
      const owner = (c.message ?? '').replace(/^conflict with /, '');
      return { field: c.field ?? '?', owner, manager: /^"([^"]*)"/.exec(owner)?.[1] ?? owner };
    });
}

/** Turns an API error for one object into a sentence that names the object, the field and the fix. */
function explain(
  error: unknown,
  object: KubernetesObject,
  namespace: string,
  live?: KubernetesObject,
): string {
  const what = describeObject(object);
  if (!(error instanceof KubeApiError)) return `${what}: ${errorText(error)}`;
  const conflicts = conflictsOf(error);
  if (conflicts.length > 0)
    return (
      `${what}: ${conflicts.length} field(s) are owned by another field manager:\n` +
      conflicts.map((c) => `    ${c.field} (owned by ${c.owner})`).join('\n') +
      `\n  Set input 'force-conflicts' to true to take them over, or stop the other tool from changing them.`
    );
  const immutable = error.causes.filter((c) => /field is immutable/.test(c.message ?? ''));
  if (error.status === 422 && (immutable.length > 0 || /field is immutable/.test(error.serverMessage))) {
    const fields = immutable.map((c) => c.field ?? '?');
    if (fields.length === 0) fields.push('?');
    return fields.map((f) => immutableAdvice(what, object, f, namespace, live)).join('\n  ');
  }
  if (error.status === 422 || error.status === 400) {
    const causes = error.causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`);
    return `${what}: rejected by the API server: ${causes.length > 0 ? causes.join('; ') : error.serverMessage}`;
  }
  if (error.status === 403)
    return `${what}: forbidden: ${error.serverMessage}; the cluster credentials need permission to apply ${object.kind} in namespace '${namespace}'`;
  return `${what}: ${error.status} ${error.reason}: ${error.serverMessage}`;
}

function immutableAdvice(
  what: string,
  object: KubernetesObject,
  field: string,
  namespace: string,
  live?: KubernetesObject,
): string {
  const show = (o: unknown) => (o === undefined ? 'unset' : JSON.stringify(o));
  const values = live
    ? ` The live ${object.kind} has ${show(valueAt(live, field))}; the manifests ask for ${show(valueAt(object, field))}.`
    : '';
  if (object.kind === 'Deployment' && field === 'spec.selector')
    return (
      `${what}: spec.selector is immutable on an existing Deployment.${values} Either keep the old selector ` +
      `(and matching template labels) in the manifests, or delete Deployment ${object.metadata?.name} in namespace ` +
      `'${namespace}' and deploy again (its pods are recreated, with a short outage).`
    );
  return (
    `${what}: ${field} is immutable and the manifests change it.${values} Keep the live value in the manifests, ` +
    `or delete ${what} in namespace '${namespace}' and deploy again.`
  );
}

function valueAt(object: unknown, path: string): unknown {
  let value: unknown = object;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || /\[/.test(key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

async function deleteQuietly(cluster: Cluster, path: string): Promise<void> {
  try {
    await cluster.request('DELETE', path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

// --- pruning ---------------------------------------------------------------------------------------------

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
  options: { managedBy?: string } = {},
): Promise<Prunable[]> {
  const manager = options.managedBy ?? managedBy;
  const selector = `${managedByLabel}=${manager},${instanceLabel}=${instance}`;
  const appliedByUs = (o: KubernetesObject) =>
    (o.metadata?.managedFields ?? []).some(
      (f) => f.manager === manager || f.manager === rollbackFieldManager,
    );
  const kept = new Set(keep.map((o) => `${o.kind}/${o.metadata?.name}`));
  // the lists are independent reads: asked for together
  const lists = await Promise.all(
    prunableKinds.map(async ({ apiVersion, kind }) => {
      if (!(await cluster.resource(apiVersion, kind))) return [];
      const path = await cluster.pathOf(apiVersion, kind, namespace);
      const list = await cluster.request<{ items: KubernetesObject[] }>('GET', path, {
        query: { labelSelector: selector },
      });
      return list.items
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
        .map((item) => ({ kind, name: item.metadata?.name ?? '', path }));
    }),
  );
  return lists.flat();
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
      );
    }
    pruned.push({ kind, name, namespace });
  }
  return pruned;
}
