import type { KubernetesObject, V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { poll } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';
import { pullSecretGraceMs, pullWithSecrets } from '../diagnosis/kubelet-messages.js';
import { selectorString } from './deployment.js';
import { podFailureReasons } from './track.js';

// The rollout of the workloads besides Deployments (which track.ts follows by watch), read the way kstatus
// reads them: a StatefulSet is current when its controller saw the generation and the pods it updates (all,
// or those at or above the partition) are updated and every pod is ready; a DaemonSet when every node it
// schedules to runs an updated, available pod; a Job when it is Complete (Failed fails). A pod of the
// workload that cannot start (a pull error, a crash loop) fails it before the deadline. Bounded polling:
// nothing is left running when it returns or throws.

export { trackedKinds } from '../kinds.js';

export interface WorkloadState {
  done: boolean;
  /** set when the workload itself says it failed (a Job's Failed condition) */
  failed?: string;
  /** one line of counts, for the log */
  line: string;
}

type Status = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' ? v : 0);

/** Where the workload stands (pure). */
export function workloadState(object: KubernetesObject): WorkloadState {
  const o = object as KubernetesObject & { spec?: Status; status?: Status };
  const spec = o.spec ?? {};
  const status = o.status ?? {};
  const what = `${o.kind}/${o.metadata?.name}`;
  const generation = o.metadata?.generation ?? 0;
  if (o.kind !== 'Job' && num(status.observedGeneration) < generation)
    return { done: false, line: `${what}: waiting for its controller to see generation ${generation}` };
  switch (o.kind) {
    case 'StatefulSet': {
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const strategy = (spec.updateStrategy ?? {}) as {
        type?: string;
        rollingUpdate?: { partition?: number };
      };
      const partition = strategy.rollingUpdate?.partition ?? 0;
      const ready = num(status.readyReplicas);
      const updated = num(status.updatedReplicas);
      const line = `${what}: ${updated} of ${replicas} updated${partition > 0 ? ` (partition ${partition}: ${Math.max(0, replicas - partition)} to update)` : ''}, ${ready} of ${replicas} ready`;
      if (strategy.type === 'OnDelete') return { done: ready >= replicas, line };
      const current = partition > 0 || status.currentRevision === status.updateRevision;
      return { done: updated >= replicas - partition && ready >= replicas && current, line };
    }
    case 'DaemonSet': {
      const desired = num(status.desiredNumberScheduled);
      const updated = num(status.updatedNumberScheduled);
      const available = num(status.numberAvailable);
      return {
        done: updated >= desired && available >= desired,
        line: `${what}: ${updated} of ${desired} updated, ${available} of ${desired} available`,
      };
    }
    case 'Job': {
      const conditions = (status.conditions ?? []) as {
        type?: string;
        status?: string;
        reason?: string;
        message?: string;
      }[];
      const is = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
      const completions = typeof spec.completions === 'number' ? spec.completions : 1;
      const line = `${what}: ${num(status.succeeded)} of ${completions} succeeded, ${num(status.active)} active, ${num(status.failed)} failed`;
      const failed = is('Failed');
      if (failed)
        return { done: false, failed: `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`.trim(), line };
      return { done: Boolean(is('Complete')), line };
    }
    default:
      return { done: true, line: `${what}: not tracked` };
  }
}

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
  const apiVersion = kind === 'Job' ? 'batch/v1' : 'apps/v1';
  const path = await cluster.pathOf(apiVersion, kind, namespace, name);
  const seen = new Map<string, number>();
  let last = '';
  // one read of the workload and its pods per poll
  const done = await poll(
    async () => {
      options.signal?.throwIfAborted();
      const object = await cluster.request<Workload>('GET', path);
      const state = workloadState(object);
      if (state.line !== last) {
        last = state.line;
        options.onProgress?.(last);
      }
      if (state.done) return { elapsedMs: Date.now() - started };
      if (state.failed) throw new WorkloadFailure(`${kind}/${name} failed: ${state.failed}`);
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
