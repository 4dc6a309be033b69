import type { V1ContainerStatus, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import { ResumableWatch } from '../client/watch.js';
import { pullSecretGraceMs, pullWithSecrets } from '../diagnosis/kubelet-messages.js';
import {
  deploymentPath,
  newReplicaSet,
  podTemplateHashLabel,
  readDeployment,
  replicaSetsOf,
  revisionOf,
  selectorString,
} from './deployment.js';

// Rollout tracking in the manner of werf/kubedog: watch the Deployment for `kubectl rollout status`
// semantics, and the pods of its new ReplicaSet so that a pod that cannot start fails the rollout early,
// instead of waiting for the progress deadline.

export interface TrackOptions {
  /** give up after this long (input rollout-timeout) */
  timeoutMs: number;
  /** one line whenever the counts change, or a pod starts failing */
  onProgress?: (line: string) => void;
  /** fail on a failing pod of the new ReplicaSet before the deadline (default true) */
  failFast?: boolean;
  /** a pod may show a failure reason this long before the rollout fails (default 10 s) */
  graceMs?: number;
  /** ... or this many watch observations of it, whichever comes first (default 3) */
  graceObservations?: number;
  /** CrashLoopBackOff fails at once from this many restarts (default 3) */
  crashLoopRestarts?: number;
  /** an unschedulable pod fails the rollout after this long (default 60 s; Infinity waits for the deadline) */
  unschedulableGraceMs?: number;
  /** each watch request ends after this many seconds and is resumed (default 25) */
  watchTimeoutSeconds?: number;
  /** stops the tracking (its watches closed) with the signal's reason: a cancel, or another workload failed */
  signal?: AbortSignal;
}

export interface RolloutResult {
  /** deployment.kubernetes.io/revision of the completed rollout */
  revision: number;
  /** watch connections re-established on the way (dropped or ended by the server) */
  reconnects: number;
  elapsedMs: number;
}

export type RolloutFailureReason =
  | 'ProgressDeadlineExceeded'
  | 'Timeout'
  | 'DeploymentDeleted'
  | 'Paused'
  | 'WatchFailed'
  | 'Unschedulable'
  | (typeof podFailureReasons)[number];

/** A rollout that did not complete; `reason` says why, `pod`/`container` where it was seen. */
export class RolloutFailure extends Error {
  constructor(
    readonly reason: RolloutFailureReason,
    message: string,
    readonly detail: {
      deployment: string;
      namespace: string;
      revision: number;
      pod?: string;
      container?: string;
    },
  ) {
    super(message);
    this.name = 'RolloutFailure';
  }
}

export const podFailureReasons = [
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
] as const;
const failing = new Set<string>(podFailureReasons);

interface Sighting {
  pod: string;
  hash: string;
  container: string;
  reason: string;
  message: string;
  restarts: number;
  since: number;
  observations: number;
  /** a pull failure of a pod with imagePullSecrets: judged by time alone (pullSecretGraceMs) */
  secretPull?: boolean;
}

const tickMs = 500;

export async function trackRollout(
  cluster: Cluster,
  namespace: string,
  name: string,
  options: TrackOptions,
): Promise<RolloutResult> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const say = options.onProgress ?? (() => {});
  const failFast = options.failFast ?? true;
  const graceMs = options.graceMs ?? 10_000;
  const graceObservations = options.graceObservations ?? 3;
  const crashLoopRestarts = options.crashLoopRestarts ?? 3;
  const unschedulableGraceMs = options.unschedulableGraceMs ?? 60_000;
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 25;

  const initial = await readDeployment(cluster, namespace, name);
  let deployment: V1Deployment | undefined = initial;
  const pods = new Map<string, V1Pod>();
  const sightings = new Map<string, Sighting>();
  const announced = new Set<string>();
  let fatal: Error | undefined;
  let newRS: V1ReplicaSet | undefined;
  let lastLine = '';
  const wake = new Wakeup();
  const stop = () => wake.notify();
  options.signal?.addEventListener('abort', stop);

  const seePod = (pod: V1Pod, now: number) => {
    const podName = pod.metadata?.name ?? '';
    const current = new Set<string>();
    for (const s of podProblems(pod)) {
      const key = `${podName}/${s.container}/${s.reason}`;
      current.add(key);
      const seen = sightings.get(key);
      sightings.set(key, {
        ...s,
        pod: podName,
        hash: pod.metadata?.labels?.[podTemplateHashLabel] ?? '',
        since: seen?.since ?? now,
        observations: (seen?.observations ?? 0) + 1,
      });
    }
    for (const key of sightings.keys())
      if (key.startsWith(`${podName}/`) && !current.has(key)) sightings.delete(key);
  };
  const forgetPod = (podName: string) => {
    pods.delete(podName);
    for (const key of sightings.keys()) if (key.startsWith(`${podName}/`)) sightings.delete(key);
  };

  const common = {
    timeoutSeconds: watchTimeoutSeconds,
    onFatal: (e: Error) => {
      fatal = e;
      wake.notify();
    },
  };
  const deploymentWatch = new ResumableWatch<V1Deployment>(cluster, deploymentPath(namespace), {
    ...common,
    query: { fieldSelector: `metadata.name=${name}` },
    onReset: (items) => {
      deployment = items[0];
      wake.notify();
    },
    onEvent: (type, object) => {
      deployment = type === 'DELETED' ? undefined : object;
      wake.notify();
    },
  });
  const podWatch = new ResumableWatch<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods`, {
    ...common,
    query: { labelSelector: selectorString(initial.spec?.selector) },
    onReset: (items) => {
      const now = Date.now();
      for (const podName of [...pods.keys()])
        if (!items.some((p) => p.metadata?.name === podName)) forgetPod(podName);
      for (const pod of items) {
        pods.set(pod.metadata?.name ?? '', pod);
        seePod(pod, now);
      }
      wake.notify();
    },
    onEvent: (type, pod) => {
      const podName = pod.metadata?.name ?? '';
      if (type === 'DELETED') forgetPod(podName);
      else {
        pods.set(podName, pod);
        seePod(pod, Date.now());
      }
      wake.notify();
    },
  });

  const fail = (
    reason: RolloutFailureReason,
    message: string,
    where: { pod?: string; container?: string } = {},
  ) => {
    const revision = deployment ? revisionOf(deployment) : revisionOf(initial);
    return new RolloutFailure(
      reason,
      `Deployment ${name} (namespace ${namespace}, revision ${revision}): ${message}`,
      {
        deployment: name,
        namespace,
        revision,
        ...where,
      },
    );
  };

  try {
    await deploymentWatch.start();
    await podWatch.start();
    // bounded: every pass waits for an event or a tick, and the deadline ends the loop
    for (;;) {
      options.signal?.throwIfAborted();
      const now = Date.now();
      if (fatal) throw fail('WatchFailed', `lost the watch on the cluster: ${fatal.message}`);
      const d = deployment;
      if (!d)
        throw fail('DeploymentDeleted', 'the Deployment was deleted while its rollout was being tracked');
      if (d.spec?.paused)
        throw fail('Paused', 'the Deployment is paused (spec.paused: true); resume it and deploy again');

      const status = d.status ?? {};
      const observed = (d.metadata?.generation ?? 0) <= (status.observedGeneration ?? -1);
      if (observed) {
        const progressing = status.conditions?.find((c) => c.type === 'Progressing');
        if (progressing?.reason === 'ProgressDeadlineExceeded')
          throw fail(
            'ProgressDeadlineExceeded',
            `exceeded its progress deadline (${d.spec?.progressDeadlineSeconds ?? 600}s): ${progressing.message ?? ''}`,
          );
        const want = d.spec?.replicas ?? 1;
        const updated = status.updatedReplicas ?? 0;
        const total = status.replicas ?? 0;
        const available = status.availableReplicas ?? 0;
        const old = total - updated;
        const line = `${updated} of ${want} updated, ${available} of ${want} available${old > 0 ? `, ${old} old pending termination` : ''}`;
        if (line !== lastLine) say(`Deployment ${name} revision ${revisionOf(d)}: ${line}`);
        lastLine = line;
        if (updated >= want && total <= updated && available >= updated)
          return {
            revision: revisionOf(d),
            reconnects: deploymentWatch.reconnects + podWatch.reconnects,
            elapsedMs: now - started,
          };
      }

      if (failFast) {
        if (!newRS || !sameRevision(newRS, d)) newRS = await findNewReplicaSet(cluster, d);
        const hash = newRS?.metadata?.labels?.[podTemplateHashLabel];
        for (const s of sightings.values()) {
          if (!hash || s.hash !== hash) continue;
          const key = `${s.pod}/${s.container}/${s.reason}`;
          const heldMs = now - s.since;
          const limit =
            s.reason === 'Unschedulable'
              ? unschedulableGraceMs
              : s.secretPull
                ? Math.max(graceMs, pullSecretGraceMs)
                : graceMs;
          const crashLooping = s.reason === 'CrashLoopBackOff' && s.restarts >= crashLoopRestarts;
          const counted = s.reason !== 'Unschedulable' && !s.secretPull;
          const held = heldMs >= limit || (counted && s.observations >= graceObservations);
          if (crashLooping || held)
            throw fail(s.reason as RolloutFailureReason, describeSighting(s, heldMs), {
              pod: s.pod,
              ...(s.container ? { container: s.container } : {}),
            });
          if (!announced.has(key)) {
            announced.add(key);
            say(
              `${describeSighting(s, heldMs)}; waiting up to ${Math.round(limit / 1000)}s for it to recover`,
            );
          }
        }
      }

      if (now >= deadline)
        throw fail(
          'Timeout',
          `not rolled out within ${Math.round(options.timeoutMs / 1000)}s (input rollout-timeout)${lastLine ? `: ${lastLine}` : ''}`,
        );
      await wake.wait(Math.min(tickMs, deadline - now));
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    deploymentWatch.stop();
    podWatch.stop();
    wake.cancel();
  }
}

function sameRevision(rs: V1ReplicaSet, d: V1Deployment): boolean {
  return revisionOf(rs) === revisionOf(d) && revisionOf(d) > 0;
}

async function findNewReplicaSet(cluster: Cluster, d: V1Deployment): Promise<V1ReplicaSet | undefined> {
  try {
    return newReplicaSet(d, await replicaSetsOf(cluster, d));
  } catch (error) {
    throw new Error(`cannot list the ReplicaSets of Deployment ${d.metadata?.name}: ${errorText(error)}`);
  }
}

/** Container waiting reasons that mean the pod will not start by itself, and an unschedulable pod. */
function podProblems(pod: V1Pod): Omit<Sighting, 'pod' | 'hash' | 'since' | 'observations'>[] {
  if (pod.metadata?.deletionTimestamp) return [];
  const problems: Omit<Sighting, 'pod' | 'hash' | 'since' | 'observations'>[] = [];
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const c of statuses) {
    const reason = c.state?.waiting?.reason;
    if (reason && failing.has(reason)) {
      const last = c.lastState?.terminated;
      const exit = last ? ` (last exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''})` : '';
      problems.push({
        container: c.name,
        reason,
        message: `${c.state?.waiting?.message ?? ''}${exit}`.trim(),
        restarts: c.restartCount ?? 0,
        ...(pullWithSecrets(pod, reason) ? { secretPull: true } : {}),
      });
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
    problems.push({ container: '', reason: 'Unschedulable', message: scheduled.message ?? '', restarts: 0 });
  return problems;
}

function describeSighting(s: Sighting, heldMs: number): string {
  const where = s.container ? `container ${s.container} of pod ${s.pod}` : `pod ${s.pod}`;
  const restarts = s.reason === 'CrashLoopBackOff' ? `, ${s.restarts} restarts` : '';
  return `${where} is ${s.reason}${restarts} for ${Math.round(heldMs / 1000)}s${s.message ? `: ${s.message}` : ''}`;
}

/** Wakes the tracking loop on an event, or after a timeout; the timer never outlives a wait. */
class Wakeup {
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending = false;

  notify(): void {
    if (this.resolve) this.resolve();
    else this.pending = true;
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = () => {
        this.cancel();
        resolve();
      };
      this.timer = setTimeout(() => this.resolve?.(), Math.max(0, ms));
    });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolve = undefined;
  }
}
