// Carrying out the rbac/ plan, and undoing it. The apply writes only what the plan said changes, with the
// signed-in user's token, in the files' order (roles before their bindings, the Namespace before what lives
// in it); a plan with any refusal writes nothing. Teardown deletes only objects setup's own field manager
// wrote, never the Namespace (production lives in it) nor the pod policies every app shares.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ssa } from '../../kube/apply/ssa.js';
import { type Cluster, isNotFound } from '../../kube/client/client.js';
import { errorText } from '../../util/errors.js';
import type { RbacObject } from './rbac-files.js';
import { type RbacPlan, setupFieldManager } from './rbac-plan.js';
import { objectLabel, refusalOf } from './refusal.js';

export interface RbacApplied {
  /** kind/namespace/name (file) of each object written, with + (created) or ~ (updated) */
  written: string[];
}

/** Applies what `plan` creates or updates; throws before any write when the plan holds a refusal. */
export async function applyRbacPlan(cluster: Cluster, plan: RbacPlan): Promise<RbacApplied> {
  const refusals = plan.entries.flatMap((e) => (e.refusal ? [e.refusal] : []));
  if (refusals.length > 0)
    throw new Error(
      `the rbac/ objects were not applied, nothing changed: ${refusals.length} of them would be refused:\n  ${refusals.join('\n  ')}`,
    );
  const written: string[] = [];
  for (const e of plan.entries) {
    if (e.action !== 'create' && e.action !== 'update') continue;
    try {
      await ssa(cluster, e.path, e.object, setupFieldManager, e.takesOver.length > 0, false);
    } catch (error) {
      const refusal = refusalOf(error, e.object, e.file, plan.user.username);
      const done =
        written.length > 0 ? ` (written before it: ${written.join(', ')}; run setup again once fixed)` : '';
      throw new Error(
        `${refusal?.message ?? `${objectLabel(e.object, e.file)}: ${errorText(error)}`}${done}`,
        {
          cause: error,
        },
      );
    }
    written.push(`${e.action === 'create' ? '+' : '~'} ${objectLabel(e.object, e.file)}`);
  }
  return { written };
}

export interface TeardownEntry {
  label: string;
  path: string;
  action: 'delete' | 'keep' | 'absent';
  /** for keep: why */
  why?: string;
}

/** What teardown would delete and keep, read from the cluster (changes nothing). */
export async function planRbacTeardown(cluster: Cluster, objects: RbacObject[]): Promise<TeardownEntry[]> {
  const entries: TeardownEntry[] = [];
  // bindings before the roles they name, policies' bindings before the policies: the files' order reversed
  for (const { object, file, shared } of [...objects].reverse()) {
    const label = objectLabel(object, file);
    const path = await cluster.pathOf(
      object.apiVersion ?? '',
      object.kind ?? '',
      object.metadata?.namespace,
      object.metadata?.name,
    );
    const live = await cluster.get<KubernetesObject>(path);
    if (!live) entries.push({ label, path, action: 'absent' });
    else if (object.kind === 'Namespace')
      entries.push({
        label,
        path,
        action: 'keep',
        why: 'production runs in it: delete it by hand if the app goes too',
      });
    else if (shared)
      entries.push({
        label,
        path,
        action: 'keep',
        why: "every app's previews need it, and a deleted one refuses their pods until the API server restarts",
      });
    else if (!(live.metadata?.managedFields ?? []).some((f) => f.manager === setupFieldManager))
      entries.push({ label, path, action: 'keep', why: 'setup did not write it (no field of its manager)' });
    else entries.push({ label, path, action: 'delete' });
  }
  return entries;
}

/** Deletes what the teardown plan deletes; an object already gone is fine. Returns the labels deleted. */
export async function applyRbacTeardown(cluster: Cluster, entries: TeardownEntry[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const e of entries) {
    if (e.action !== 'delete') continue;
    await cluster.request('DELETE', e.path).catch((error: unknown) => {
      if (!isNotFound(error)) throw new Error(`deleting ${e.label}: ${errorText(error)}`, { cause: error });
    });
    deleted.push(e.label);
  }
  return deleted;
}
