import type { KubernetesObject, V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { poll } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';
import { pullSecretGraceMs, pullWithSecrets } from '../diagnosis/kubelet-messages.js';
import { kindOf } from '../kinds.js';
import { selectorString } from '../manifests/selector.js';
import { statusOf } from './status.js';
import { podFailureReasons } from './track.js';

// The rollout of the workloads besides Deployments (which track.ts follows by watch): polled until
// status.ts says Current (the kstatus rules per kind), failed when it says Failed (a Job's Failed condition),
// and failed before the deadline by a pod of the workload that cannot start (a pull error, a crash loop).
// Bounded polling: nothing is left running when it returns or throws.

export { trackedKinds } from '../kinds.js';

type Workload = KubernetesObject & { spec?: { selector?: V1LabelSelector } };

export class WorkloadFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkloadFailure';
  }
}

export interface WorkloadTrackOptions {
  timeoutMs: number;
  onProgress?: (line: string) => void;
  /** a pod may show a failure reason this long before the rollout fails (default 10 s) */
  graceMs?: number;
  /** CrashLoopBackOff fails at once from this many restarts (default 3) */
  crashLoopRestarts?: number;
  pollMs?: number;
  /** stops the tracking with the signal's reason: a cancel, or another workload failed */
  signal?: AbortSignal;
}

/** Waits until the workload is current; throws WorkloadFailure with the reason otherwise. */
export async function trackWorkload(
  cluster: Cluster,
  namespace: string,
  kind: string,
  name: string,
  options: WorkloadTrackOptions,
): Promise<{ elapsedMs: number }> {
  const started = Date.now();
  const graceMs = options.graceMs ?? 10_000;
  const crashLoopRestarts = options.crashLoopRestarts ?? 3;
  const pollMs = options.pollMs ?? 1_000;
  const apiVersion = kindOf(kind)?.apiVersion ?? 'apps/v1';
  const path = await cluster.pathOf(apiVersion, kind, namespace, name);
  const seen = new Map<string, number>();
  let last = '';
  // one read of the workload and its pods per poll
  const done = await poll(
    async () => {
      options.signal?.throwIfAborted();
      const object = await cluster.request<Workload>('GET', path);
      const state = statusOf(object);
      const line = `${kind}/${name}: ${state.progress ?? state.message}`;
      if (line !== last) {
        last = line;
        options.onProgress?.(last);
      }
      if (state.status === 'Current') return { elapsedMs: Date.now() - started };
      if (state.status === 'Failed') throw new WorkloadFailure(`${kind}/${name} failed: ${state.message}`);
      const failing = await failingPod(cluster, namespace, object, seen, graceMs, crashLoopRestarts);
      if (failing) throw new WorkloadFailure(`${kind}/${name}: ${failing}`);
      return undefined;
    },
    { timeoutMs: options.timeoutMs, intervalMs: pollMs, signal: options.signal },
  );
  options.signal?.throwIfAborted();
  if (!done)
    throw new WorkloadFailure(
      `${kind}/${name} did not become current within ${Math.round(options.timeoutMs / 1000)} s (input rollout-timeout); last: ${last}`,
    );
  return done;
}

/** A pod of the workload whose container cannot start, past the grace; undefined while none is. */
async function failingPod(
  cluster: Cluster,
  namespace: string,
  workload: Workload,
  seen: Map<string, number>,
  graceMs: number,
  crashLoopRestarts: number,
): Promise<string | undefined> {
  const selector = selectorString(workload.spec?.selector);
  if (!selector) return undefined;
  const pods = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: selector },
  });
  for (const pod of pods.items) {
    for (const c of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      const reason = c.state?.waiting?.reason ?? '';
      if (!(podFailureReasons as readonly string[]).includes(reason)) continue;
      const key = `${pod.metadata?.name}/${c.name}/${reason}`;
      const since = seen.get(key) ?? Date.now();
      seen.set(key, since);
      const crashing = reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= crashLoopRestarts;
      const limit = pullWithSecrets(pod, reason) ? Math.max(graceMs, pullSecretGraceMs) : graceMs;
      if (crashing || Date.now() - since >= limit)
        return `container ${c.name} in pod ${pod.metadata?.name}: ${reason}${c.state?.waiting?.message ? ` (${c.state.waiting.message})` : ''}${c.restartCount ? `, ${c.restartCount} restarts` : ''}`;
    }
  }
  return undefined;
}

/**
 * After a StatefulSet's template is reverted, its controller still waits for the pod it was updating to be
 * Ready, which a broken pod never is (Kubernetes' "forced rollback"): delete the pods that are not on the
 * update revision and not Ready, so that the controller recreates them from the restored template.
 * Returns the pods deleted.
 */
export async function forceStatefulSetRollback(
  cluster: Cluster,
  namespace: string,
  name: string,
): Promise<string[]> {
  const path = `/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}`;
  type StatefulSet = Workload & { status?: { observedGeneration?: number; updateRevision?: string } };
  let set: StatefulSet | undefined;
  // the controller records the reverted template's revision within moments
  await poll(
    async () => {
      set = await cluster.request<StatefulSet>('GET', path);
      return (set.status?.observedGeneration ?? 0) >= (set.metadata?.generation ?? 0) ? set : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 500 },
  );
  const revision = set?.status?.updateRevision;
  const selector = selectorString(set?.spec?.selector);
  if (!revision || !selector) return [];
  const pods = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: selector },
  });
  const deleted: string[] = [];
  for (const pod of pods.items) {
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (
      ready ||
      pod.metadata?.labels?.['controller-revision-hash'] === revision ||
      pod.metadata?.deletionTimestamp
    )
      continue;
    await cluster.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${pod.metadata?.name}`);
    deleted.push(pod.metadata?.name ?? '');
  }
  return deleted;
}
