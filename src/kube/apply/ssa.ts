import type { KubernetesObject } from '@kubernetes/client-node';
import { poll } from '../../util/retry.js';
import { type Cluster, isNotFound } from '../client/client.js';

// The writes of an apply: a server-side apply (or its dry-run), and the delete that frees a replaced
// object's name.

const applyPatch = 'application/apply-patch+yaml';

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

/** Deletes the object (its pods first) and waits, bounded, until its name is free again. */
export async function deleteAndWait(cluster: Cluster, path: string, timeoutMs = 120_000): Promise<void> {
  await cluster
    .request('DELETE', path, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' },
    })
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  const gone = await poll(async () => (await cluster.get(path)) === undefined || undefined, {
    timeoutMs,
    intervalMs: 500,
  });
  if (!gone)
    throw new Error(`${path} was deleted to be replaced but is still there after ${timeoutMs / 1000} s`);
}
