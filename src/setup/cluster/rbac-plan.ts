// The plan for the rbac/ objects, read from the cluster and changing nothing: each object's server-side apply
// dry-run as the signed-in user, against the live object. The dry-run runs the real authorizer (RBAC's
// escalation check included) and the real admission chain, so a plan with no refusal is one the apply can
// carry out; its answer compared with the live object says created, changed (which fields) or unchanged.
import type { KubernetesObject } from '@kubernetes/client-node';
import { conflictsOf } from '../../kube/apply/conflicts.js';
import { ssa } from '../../kube/apply/ssa.js';
import { type Cluster, isNotFound } from '../../kube/client/client.js';
import { mayI } from '../../kube/client/self-review.js';
import { groupOf } from '../../kube/kinds.js';
import { sameJson, sameObject } from '../../kube/manifests/json.js';
import { errorText } from '../../util/errors.js';
import type { UserInfo } from './connect.js';
import type { RbacObject } from './rbac-files.js';
import { objectLabel, refusalOf, whoCanGrant } from './refusal.js';

/** The field manager of setup's writes: what teardown looks for, apart from the action's own. */
export const setupFieldManager = 'archetype-deploy-setup';

export type RbacAction = 'create' | 'update' | 'unchanged' | 'refused';

export interface RbacPlanEntry extends RbacObject {
  action: RbacAction;
  /** the object's URL path */
  path: string;
  /** for update: the fields that change, e.g. rules, spec.validations, metadata.labels */
  changes: string[];
  /** fields another field manager holds, which the apply takes over (force): `field (manager)` */
  takesOver: string[];
  /** for refused: why, naming the object, its file, the missing right and who can grant it */
  refusal?: string;
  /** for a create in a namespace the plan makes: checked by access review, not dry-run (it has no namespace yet) */
  unverified?: string;
}

export interface RbacPlan {
  user: UserInfo;
  entries: RbacPlanEntry[];
}

/** Dry-runs every object, in order; a refusal is recorded (all are listed), any other failure thrown. */
export async function planRbac(cluster: Cluster, user: UserInfo, objects: RbacObject[]): Promise<RbacPlan> {
  const entries: RbacPlanEntry[] = [];
  const newNamespaces = new Set<string>();
  for (const item of objects) {
    const entry = await planOne(cluster, user, item, newNamespaces);
    if (entry.object.kind === 'Namespace' && entry.action === 'create')
      newNamespaces.add(entry.object.metadata?.name ?? '');
    entries.push(entry);
  }
  return { user, entries };
}

async function planOne(
  cluster: Cluster,
  user: UserInfo,
  item: RbacObject,
  newNamespaces: Set<string>,
): Promise<RbacPlanEntry> {
  const { object, file } = item;
  const path = await cluster.pathOf(
    object.apiVersion ?? '',
    object.kind ?? '',
    object.metadata?.namespace,
    object.metadata?.name,
  );
  const base = { ...item, path, changes: [], takesOver: [] };
  const namespace = object.metadata?.namespace;
  // a dry-run in a namespace that does not exist yet answers 404: the right to create is asked instead
  if (namespace && newNamespaces.has(namespace)) return planInNewNamespace(cluster, user, base);
  try {
    const live = await cluster.get<KubernetesObject>(path);
    let takesOver: string[] = [];
    let result: KubernetesObject;
    try {
      result = await ssa(cluster, path, object, setupFieldManager, false, true);
    } catch (error) {
      const conflicts = conflictsOf(error);
      if (conflicts.length === 0) throw error;
      // these objects are setup's by name (they carry APP): what rbac/ says wins, and the plan names whose
      // fields it takes, as `kubectl apply --server-side --force-conflicts` would
      takesOver = conflicts.map((c) => `${c.field} (${c.owner})`);
      result = await ssa(cluster, path, object, setupFieldManager, true, true);
    }
    if (!live) return { ...base, action: 'create', takesOver };
    if (sameObject(live, result)) return { ...base, action: 'unchanged' };
    return { ...base, action: 'update', changes: changedFields(live, result), takesOver };
  } catch (error) {
    const refusal = refusalOf(error, object, file, user.username);
    if (refusal) return { ...base, action: 'refused', refusal: refusal.message };
    if (isNotFound(error) && /namespaces? "[^"]+" not found/.test(errorText(error)))
      return {
        ...base,
        action: 'refused',
        refusal: `${objectLabel(object, file)}: its namespace does not exist and the files do not make it; apply rbac/production.yaml's Namespace first`,
      };
    throw new Error(`${objectLabel(object, file)}: the dry-run failed: ${errorText(error)}`, {
      cause: error,
    });
  }
}

/** A create in a namespace the plan creates first: the signed-in user's rights to it, by SelfSubjectAccessReview. */
async function planInNewNamespace(
  cluster: Cluster,
  user: UserInfo,
  base: Omit<RbacPlanEntry, 'action'>,
): Promise<RbacPlanEntry> {
  const { object } = base;
  const group = groupOf(object.apiVersion ?? '');
  const resource = base.path.split('/').at(-2) ?? '';
  for (const verb of ['create', 'patch']) {
    const allowed = await mayI(cluster, { namespace: object.metadata?.namespace, verb, group, resource });
    if (!allowed) {
      const right = `${verb} ${resource}${group ? `.${group}` : ''} in namespace ${object.metadata?.namespace}`;
      return {
        ...base,
        action: 'refused',
        refusal: `${objectLabel(object, base.file)}: ${user.username} may not ${right}, which applying it needs; ${whoCanGrant}`,
      };
    }
  }
  return {
    ...base,
    action: 'create',
    unverified: 'its namespace is created first, so the server checks the rest of it on apply',
  };
}

/**
 * The fields that differ, to two levels (rules, subjects, spec.validations, metadata.labels, ...): enough to
 * say what an update changes without printing the objects.
 */
export function changedFields(live: KubernetesObject, next: KubernetesObject): string[] {
  const skip = new Set([
    'status',
    'managedFields',
    'resourceVersion',
    'generation',
    'uid',
    'creationTimestamp',
  ]);
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, prefix: string, depth: number) => {
    const ra = (a ?? {}) as Record<string, unknown>;
    const rb = (b ?? {}) as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
      if (skip.has(key) || sameJson(ra[key], rb[key])) continue;
      const field = prefix ? `${prefix}.${key}` : key;
      const nested = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
      if (depth < 1 && nested(ra[key]) && nested(rb[key])) walk(ra[key], rb[key], field, depth + 1);
      else out.push(field);
    }
  };
  walk(live, next, '', 0);
  return out;
}

/** The lines to print, like `terraform plan`: + create, ~ update (fields), refusals last; "nothing to change". */
export function describeRbacPlan(plan: RbacPlan): string[] {
  const lines: string[] = [];
  const sign: Record<RbacAction, string> = { create: '+', update: '~', unchanged: '=', refused: '!' };
  for (const e of plan.entries) {
    if (e.action === 'unchanged' || e.action === 'refused') continue;
    const changes = e.changes.length > 0 ? `: ${e.changes.join(', ')}` : '';
    const taken = e.takesOver.length > 0 ? `; takes over ${e.takesOver.join(', ')}` : '';
    lines.push(`${sign[e.action]} ${objectLabel(e.object, e.file)}${changes}${taken}`);
  }
  if (lines.length === 0 && !plan.entries.some((e) => e.action === 'refused'))
    lines.push(`cluster: nothing to change (${plan.entries.length} rbac/ objects as the files say)`);
  for (const e of plan.entries) if (e.refusal) lines.push(`not done: ${e.refusal}`);
  return lines;
}

/** Whether applying the plan would change anything. */
export function rbacPlanChanges(plan: RbacPlan): boolean {
  return plan.entries.some((e) => e.action === 'create' || e.action === 'update');
}
