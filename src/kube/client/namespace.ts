import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import { poll } from '../../util/retry.js';
import { type Cluster, isNotFound } from './client.js';

// Every read, creation, change and deletion of a Namespace the action makes goes through here.

export interface Namespace {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  status?: { phase?: string; conditions?: { type?: string; status?: string; message?: string }[] };
}

const namespacePath = (name: string) => `/api/v1/namespaces/${encodeURIComponent(name)}`;

/** The namespace, or undefined when it does not exist; any other failure thrown, naming the namespace. */
export async function readNamespace(cluster: Cluster, name: string): Promise<Namespace | undefined> {
  try {
    return await cluster.get<Namespace>(namespacePath(name));
  } catch (error) {
    throw new Error(`cannot read namespace '${name}': ${errorText(error)}`, { cause: error });
  }
}

/** The namespaces whose labels match the selector. */
export async function listNamespaces(cluster: Cluster, labelSelector: string): Promise<Namespace[]> {
  const list = await cluster.request<{ items: Namespace[] }>('GET', '/api/v1/namespaces', {
    query: { labelSelector },
  });
  return list.items;
}

/**
 * Whether the namespace exists (false: missing, to be made). One being deleted cannot take the deploy: that
 * throws, naming the wait (a teardown may still be running).
 */
export async function namespaceExists(cluster: Cluster, namespace: string): Promise<boolean> {
  const live = await cluster.get<Namespace>(namespacePath(namespace));
  if (!live) return false;
  if (live.status?.phase === 'Terminating')
    throw new Error(
      `namespace '${namespace}' is being deleted (a teardown may still be running); wait until it is gone and deploy again`,
    );
  return true;
}

/**
 * Server-side apply of the Namespace object, with strict field validation: creates it, or sets its labels
 * and annotations on the live one. `force` takes fields over from other field managers.
 */
export async function applyNamespace(
  cluster: Cluster,
  namespace: KubernetesObject,
  options: { fieldManager: string; force?: boolean },
): Promise<void> {
  await cluster.request('PATCH', namespacePath(namespace.metadata?.name ?? ''), {
    query: { fieldManager: options.fieldManager, fieldValidation: 'Strict', force: options.force },
    contentType: 'application/apply-patch+yaml',
    body: namespace,
  });
}

/**
 * Creates the namespace by server-side apply of `namespace` when it does not exist: true when it was made
 * here, false when it was there already (and then left as it is). One being deleted throws (namespaceExists).
 */
export async function createNamespaceIfMissing(
  cluster: Cluster,
  namespace: KubernetesObject,
  options: { fieldManager: string; force?: boolean },
): Promise<boolean> {
  if (await namespaceExists(cluster, namespace.metadata?.name ?? '')) return false;
  await applyNamespace(cluster, namespace, options);
  return true;
}

/**
 * Merge-patches the namespace's labels and annotations: false when there is no such namespace, any other
 * failure thrown as the API server gave it.
 */
export async function patchNamespaceMetadata(
  cluster: Cluster,
  name: string,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> },
): Promise<boolean> {
  try {
    await cluster.request('PATCH', namespacePath(name), {
      contentType: 'application/merge-patch+json',
      body: { metadata },
    });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Deletes the namespace (and so everything in it) without waiting for it to go: true when the deletion was
 * asked, false when there was no such namespace. Any other failure is thrown as the API server gave it.
 */
export async function deleteNamespace(cluster: Cluster, name: string): Promise<boolean> {
  try {
    await cluster.request('DELETE', namespacePath(name), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
    });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

const gonePollMs = 1_000;

/** Deletes the namespaces and waits until all are gone, at most timeoutMs (the teardown, the sweep). */
export async function deleteNamespacesAndWait(
  cluster: Cluster,
  names: string[],
  timeoutMs: number,
): Promise<void> {
  for (const name of names) {
    try {
      await deleteNamespace(cluster, name);
    } catch (error) {
      throw new Error(`cannot delete namespace '${name}': ${errorText(error)}`, { cause: error });
    }
  }
  const started = Date.now();
  let left = [...names];
  let still: { name: string; live: Namespace }[] = [];
  const gone = await poll(
    async () => {
      still = [];
      for (const name of left) {
        const live = await readNamespace(cluster, name);
        if (live) still.push({ name, live });
      }
      for (const name of left)
        if (!still.some((s) => s.name === name))
          core.info(`namespace ${name} is gone (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      left = still.map((s) => s.name);
      return left.length === 0 || undefined;
    },
    { timeoutMs, intervalMs: gonePollMs },
  );
  if (!gone)
    throw new Error(
      `namespace(s) still being deleted after ${Math.round(timeoutMs / 1000)}s (input rollout-timeout): ` +
        `${still.map((s) => `${s.name} (${blocking(s.live)})`).join('; ')}; ` +
        'the deletion goes on in the cluster: look for finalizers that nothing removes, then run the teardown again',
    );
}

/** Why a namespace is still there: the conditions the namespace controller sets while it deletes. */
function blocking(ns: Namespace): string {
  const reasons = (ns.status?.conditions ?? [])
    .filter((c) => c.status === 'True' && c.message)
    .map((c) => `${c.type}: ${c.message}`);
  return reasons.join('; ') || `phase ${ns.status?.phase ?? 'unknown'}`;
}
