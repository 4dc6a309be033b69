import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { type Cluster, KubeApiError } from '../client/client.js';
import { isKubectlManager, valueAt } from './conflicts.js';
import type { TakenOver } from './types.js';

// Drift made by hand with kubectl (`set env`, `edit`, `label`, `annotate`, `patch`, ...) adopted, so the
// next apply removes what the manifests do not have. Server-side apply removes only fields its manager
// owned: a field kubectl added stays, owned by kubectl, unless its ownership moves to the applier first.
// That move is client-go's csaupgrade (kubectl's own migration to server-side apply) for every kubectl
// manager: their Update entries' fields joined to the applier's Apply entry, sent as a JSON patch of
// metadata.managedFields pinned to the resourceVersion read. kubectl's last-applied-configuration annotation
// stays kubectl's (a later `kubectl apply` of the same files then reverts nothing); subresource entries
// (status, scale) are left as csaupgrade leaves them.

type Fields = { [key: string]: Fields };

const lastApplied = ['f:metadata', 'f:annotations', 'f:kubectl.kubernetes.io/last-applied-configuration'];

/** A kubectl Update entry of the main resource, with what it owns besides the last-applied annotation. */
function adoptable(entry: V1ManagedFieldsEntry): Fields | undefined {
  if (entry.operation !== 'Update' || entry.subresource || !isKubectlManager(entry.manager ?? '')) return;
  // `kubectl rollout restart` is an act, not configuration: taking its restartedAt away would roll the
  // pods again (fluxcd leaves it alone too)
  if (entry.manager === 'kubectl-rollout') return;
  const fields = without(structuredClone((entry.fieldsV1 ?? {}) as Fields), lastApplied);
  return Object.keys(fields).length > 0 ? fields : undefined;
}

/** The kubectl managers holding fields of `live` that an apply would adopt: none, nothing to do. */
export function handEdits(live: KubernetesObject | undefined): string[] {
  const entries = live?.metadata?.managedFields ?? [];
  return [...new Set(entries.filter((e) => adoptable(e)).map((e) => e.manager ?? ''))];
}

export interface Adopted {
  /** the adopted fields, by kubectl manager */
  fields: Map<string, Fields>;
}

/**
 * Moves the fields of every kubectl manager of the live object at `path` to `fieldManager`'s Apply entry;
 * undefined when there is nothing to move. A write in between (the resourceVersion moved) reads again, at
 * most three times.
 */
export async function adoptHandEdits(
  cluster: Cluster,
  path: string,
  fieldManager: string,
  read?: KubernetesObject,
): Promise<Adopted | undefined> {
  let live = read;
  for (let attempt = 1; ; attempt++) {
    live ??= await cluster.get<KubernetesObject>(path);
    const upgraded = live && upgrade(live.metadata?.managedFields ?? [], fieldManager);
    if (!live || !upgraded) return undefined;
    try {
      await cluster.request('PATCH', path, {
        contentType: 'application/json-patch+json',
        body: [
          { op: 'replace', path: '/metadata/managedFields', value: upgraded.entries },
          // as csaupgrade: a replace, so that a stale read is a 409 from storage
          { op: 'replace', path: '/metadata/resourceVersion', value: live.metadata?.resourceVersion },
        ],
      });
      return { fields: upgraded.fields };
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 409) || attempt >= 3) throw error;
      live = undefined;
    }
  }
}

/** managedFields with each kubectl entry's fields joined to the applier's Apply entry (csaupgrade). */
function upgrade(
  entries: V1ManagedFieldsEntry[],
  fieldManager: string,
): { entries: V1ManagedFieldsEntry[]; fields: Map<string, Fields> } | undefined {
  const fields = new Map<string, Fields>();
  const isOurs = (e: V1ManagedFieldsEntry) =>
    e.manager === fieldManager && e.operation === 'Apply' && !e.subresource;
  const ours = entries.find(isOurs);
  // fields are versioned: only entries of the same apiVersion as ours join it (csaupgrade)
  const apiVersion = ours?.apiVersion ?? entries.find((e) => adoptable(e))?.apiVersion;
  let joined: Fields = structuredClone((ours?.fieldsV1 ?? {}) as Fields);
  const kept: V1ManagedFieldsEntry[] = [];
  for (const entry of entries) {
    const adopted = entry.apiVersion === apiVersion ? adoptable(entry) : undefined;
    if (!adopted) {
      if (!isOurs(entry)) kept.push(entry);
      continue;
    }
    const manager = entry.manager ?? '';
    fields.set(manager, union(fields.get(manager) ?? {}, adopted));
    joined = union(joined, adopted);
    // what stays kubectl's: the last-applied annotation
    const annotation = only((entry.fieldsV1 ?? {}) as Fields, lastApplied);
    if (annotation) kept.push({ ...entry, fieldsV1: annotation });
  }
  if (fields.size === 0) return undefined;
  const applied: V1ManagedFieldsEntry = {
    ...(ours ?? { manager: fieldManager, operation: 'Apply', apiVersion, fieldsType: 'FieldsV1' }),
    // RFC 3339 in seconds, as the API server writes it (sent as JSON, not through client-node's model)
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z') as unknown as Date,
    fieldsV1: joined,
  };
  return { entries: [applied, ...kept], fields };
}

/**
 * What of the adopted fields the apply dropped (absent from the applier's entry after the write): a list
 * item whole (an env entry `[name="HAND_EDIT"]`, not its name and value), a map's keys one by one.
 */
export function removedFields(
  kind: string,
  name: string,
  adopted: Adopted,
  written: KubernetesObject,
  fieldManager: string,
  before?: KubernetesObject,
): TakenOver[] {
  const ours = (written.metadata?.managedFields ?? []).find(
    (e) => e.manager === fieldManager && e.operation === 'Apply' && !e.subresource,
  );
  const now = (ours?.fieldsV1 ?? {}) as Fields;
  const taken: TakenOver[] = [];
  for (const [manager, fields] of adopted.fields)
    for (const path of dropped(fields, now, [])) {
      const field = path.map(readable).join('');
      const plain = path.every((k) => k.startsWith('f:'));
      const was = plain && before ? valueAt(before, field.slice(1)) : undefined;
      taken.push({ kind, name, field, manager, removed: true, ...(was === undefined ? {} : { was }) });
    }
  return taken;
}

function dropped(fields: Fields, now: Fields | undefined, at: string[]): string[][] {
  const out: string[][] = [];
  for (const [key, child] of Object.entries(fields)) {
    if (key === '.') continue;
    const path = [...at, key];
    const there = now?.[key];
    const inside = Object.keys(child).filter((k) => k !== '.');
    // a list item goes whole; a map goes key by key (what is left of it may be another manager's)
    if (!there && (inside.length === 0 || !key.startsWith('f:'))) out.push(path);
    else if (inside.length > 0) out.push(...dropped(child, there, path));
  }
  return out;
}

/** A fieldsV1 key as the API server writes a field path: f:name → .name, k:{"name":"x"} → [name="x"]. */
function readable(key: string): string {
  if (key.startsWith('f:')) return `.${key.slice(2)}`;
  if (key.startsWith('k:')) {
    try {
      const entries = Object.entries(JSON.parse(key.slice(2)) as Record<string, unknown>);
      return `[${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } catch {
      return `[${key.slice(2)}]`;
    }
  }
  if (key.startsWith('v:')) return `[=${key.slice(2)}]`;
  if (key.startsWith('i:')) return `[${key.slice(2)}]`;
  return key;
}

function union(a: Fields, b: Fields): Fields {
  const out: Fields = structuredClone(a);
  for (const [key, child] of Object.entries(b)) out[key] = union(out[key] ?? {}, child);
  return out;
}

/** `fields` without the node at `path` (and parents left empty by it, except ones that own themselves). */
function without(fields: Fields, path: string[]): Fields {
  const [head, ...rest] = path;
  if (head === undefined || !(head in fields)) return fields;
  const child = fields[head] ?? {};
  if (rest.length === 0) delete fields[head];
  else {
    without(child, rest);
    if (Object.keys(child).length === 0) delete fields[head];
  }
  return fields;
}

/** Only the node at `path` of `fields`, or undefined when it has none. */
function only(fields: Fields, path: string[]): Fields | undefined {
  let at: Fields | undefined = fields;
  for (const key of path) at = at?.[key];
  if (!at) return undefined;
  return path.reduceRight<Fields>((inner, key) => ({ [key]: inner }), {});
}
