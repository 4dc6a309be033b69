import type { KubernetesObject } from '@kubernetes/client-node';

/** Deep equality of JSON values, ignoring the order of object keys (the API server does not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((value, i) => sameJson(value, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** The same object as far as the manifests decide: what the server fills in or bumps on every write is left out. */
export function sameObject(a: KubernetesObject, b: KubernetesObject): boolean {
  return sameJson(comparable(a), comparable(b));
}

function comparable(object: KubernetesObject): unknown {
  const { status: _status, metadata, ...rest } = object as KubernetesObject & { status?: unknown };
  const {
    managedFields: _mf,
    resourceVersion: _rv,
    generation: _g,
    creationTimestamp: _ct,
    uid: _uid,
    selfLink: _sl,
    ...meta
  } = metadata ?? {};
  return { ...rest, metadata: meta };
}
