import type {
  KubernetesObject,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { kindOf, type Rollout } from '../kinds.js';

// Where a workload's rollout stands, from the object alone, in the manner of sigs.k8s.io/cli-utils kstatus
// (pkg/kstatus/status/core.go): one pure function per kind, and statusOf choosing it by the `rollout`
// column of the kinds table.
// Tracking (track.ts for Deployments, track-workload.ts for the rest) and the unchanged check
// (preflight/unchanged.ts) read the same answer, so "rolled out" means one thing everywhere.

export interface ObjectStatus {
  /** InProgress: not there yet; Current: nothing left to wait for; Failed: it will not get there by itself */
  status: 'InProgress' | 'Current' | 'Failed';
  /** where it stands, in one line: the counts, what it waits for, or why it failed */
  message: string;
  /** the counts, once the controller has seen the object's generation (the progress line of the log) */
  progress?: string;
  /** when Failed, the condition or field that says so (ProgressDeadlineExceeded, Paused, BackoffLimitExceeded…) */
  reason?: string;
}

const num = (v: number | undefined) => v ?? 0;

/**
 * Counts describe the previous spec until the controller has seen the current generation (one it never saw
 * has no observedGeneration: below every generation).
 */
function unobserved(object: KubernetesObject & { status?: { observedGeneration?: number } }) {
  const generation = object.metadata?.generation ?? 0;
  if ((object.status?.observedGeneration ?? -1) >= generation) return undefined;
  return {
    status: 'InProgress',
    message: `waiting for its controller to see generation ${generation}`,
  } as const satisfies ObjectStatus;
}

/**
 * `kubectl rollout status`: every replica updated and available, none of the old left; a paused Deployment
 * or an exceeded progress deadline fails.
 */
export function deploymentStatus(d: V1Deployment): ObjectStatus {
  if (d.spec?.paused)
    return {
      status: 'Failed',
      reason: 'Paused',
      message: 'the Deployment is paused (spec.paused: true); resume it and deploy again',
    };
  const waiting = unobserved(d);
  if (waiting) return waiting;
  const status = d.status ?? {};
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return {
      status: 'Failed',
      reason: 'ProgressDeadlineExceeded',
      message: `exceeded its progress deadline (${d.spec?.progressDeadlineSeconds ?? 600}s): ${progressing.message ?? ''}`,
    };
  const want = d.spec?.replicas ?? 1;
  const updated = num(status.updatedReplicas);
  const total = num(status.replicas);
  const available = num(status.availableReplicas);
  const old = total - updated;
  const progress = `${updated} of ${want} updated, ${available} of ${want} available${old > 0 ? `, ${old} old pending termination` : ''}`;
  const current = updated >= want && total <= updated && available >= updated;
  return { status: current ? 'Current' : 'InProgress', message: progress, progress };
}

/**
 * Current when the pods it updates (all, or those at or above the partition) are updated, every pod is
 * ready, and (without a partition) the current revision is the update revision; OnDelete: every pod ready.
 */
export function statefulSetStatus(set: V1StatefulSet): ObjectStatus {
  const waiting = unobserved(set);
  if (waiting) return waiting;
  const replicas = set.spec?.replicas ?? 1;
  const strategy = set.spec?.updateStrategy ?? {};
  const partition = strategy.rollingUpdate?.partition ?? 0;
  const ready = num(set.status?.readyReplicas);
  const updated = num(set.status?.updatedReplicas);
  const progress = `${updated} of ${replicas} updated${partition > 0 ? ` (partition ${partition}: ${Math.max(0, replicas - partition)} to update)` : ''}, ${ready} of ${replicas} ready`;
  const onRevision = partition > 0 || set.status?.currentRevision === set.status?.updateRevision;
  const current =
    strategy.type === 'OnDelete'
      ? ready >= replicas
      : updated >= replicas - partition && ready >= replicas && onRevision;
  return { status: current ? 'Current' : 'InProgress', message: progress, progress };
}

/** Current when every node it schedules to runs an updated, available pod. */
export function daemonSetStatus(set: V1DaemonSet): ObjectStatus {
  const waiting = unobserved(set);
  if (waiting) return waiting;
  const desired = num(set.status?.desiredNumberScheduled);
  const updated = num(set.status?.updatedNumberScheduled);
  const available = num(set.status?.numberAvailable);
  const progress = `${updated} of ${desired} updated, ${available} of ${desired} available`;
  const current = updated >= desired && available >= desired;
  return { status: current ? 'Current' : 'InProgress', message: progress, progress };
}

/** Current when Complete, Failed when its Failed condition is true (a Job has no observedGeneration). */
export function jobStatus(job: V1Job): ObjectStatus {
  const conditions = job.status?.conditions ?? [];
  const is = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const completions = job.spec?.completions ?? 1;
  const progress = `${num(job.status?.succeeded)} of ${completions} succeeded, ${num(job.status?.active)} active, ${num(job.status?.failed)} failed`;
  const failed = is('Failed');
  if (failed)
    return {
      status: 'Failed',
      reason: failed.reason ?? 'Failed',
      message: `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`.trim(),
      progress,
    };
  return { status: is('Complete') ? 'Current' : 'InProgress', message: progress, progress };
}

/** A kind whose rollout is not read (a ConfigMap, a Service, an unknown kind): nothing to wait for. */
export function untrackedStatus(_object: KubernetesObject): ObjectStatus {
  return { status: 'Current', message: 'not tracked' };
}

const byRollout: Record<Rollout, (object: KubernetesObject) => ObjectStatus> = {
  deployment: deploymentStatus,
  statefulset: statefulSetStatus,
  daemonset: daemonSetStatus,
  job: jobStatus,
};

/** The status of any object, by its kind's row in the kinds table. */
export function statusOf(object: KubernetesObject): ObjectStatus {
  const rollout = kindOf(object.kind)?.rollout;
  return rollout ? byRollout[rollout](object) : untrackedStatus(object);
}
