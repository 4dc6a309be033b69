import type { V1ContainerStatus, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import { ResumableWatch } from '../client/watch.js';
import { pullSecretGraceMs, pullWithSecrets } from '../diagnosis/kubelet-messages.js';
import { selectorString } from '../manifests/selector.js';
import {
  deploymentPath,
  newReplicaSet,
  podTemplateHashLabel,
  readDeployment,
  replicaSetsOf,
  revisionOf,
} from './deployment.js';
import { deploymentStatus } from './status.js';

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
  const initial = await readDeployment(cluster, namespace, name);
  const seen = new RolloutWatch(cluster, namespace, name, initial, options);
  const grace = new PodGrace(options, say);
  const fail = (reason: RolloutFailureReason, message: string, where: FailedWhere = {}) =>
    rolloutFailure(namespace, name, seen.deployment ?? initial, reason, message, where);
  let newRS: V1ReplicaSet | undefined;
  let lastLine = '';
  try {
    await seen.start();
    // bounded: every pass waits for an event or a tick, and the deadline ends the loop
    for (;;) {
      options.signal?.throwIfAborted();
      const now = Date.now();
      if (seen.fatal) throw fail('WatchFailed', `lost the watch on the cluster: ${seen.fatal.message}`);
      const d = seen.deployment;
      if (!d)
        throw fail('DeploymentDeleted', 'the Deployment was deleted while its rollout was being tracked');
      const status = deploymentStatus(d);
      if (status.status === 'Failed') throw fail(status.reason as RolloutFailureReason, status.message);
      if (status.progress !== undefined) {
        if (status.progress !== lastLine)
          say(`Deployment ${name} revision ${revisionOf(d)}: ${status.progress}`);
        lastLine = status.progress;
      }
      if (status.status === 'Current')
        return { revision: revisionOf(d), reconnects: seen.reconnects, elapsedMs: now - started };
      if (options.failFast ?? true) {
        if (!newRS || !sameRevision(newRS, d)) newRS = await findNewReplicaSet(cluster, d);
        const hash = newRS?.metadata?.labels?.[podTemplateHashLabel];
        const failing = grace.judge(seen.sightings.values(), hash, now);
        if (failing) throw fail(failing.reason, failing.message, failing.where);
      }
      if (now >= deadline)
        throw fail(
          'Timeout',
          `not rolled out within ${Math.round(options.timeoutMs / 1000)}s (input rollout-timeout)${lastLine ? `: ${lastLine}` : ''}`,
        );
      await seen.wait(Math.min(tickMs, deadline - now));
    }
  } finally {
    seen.stop();
  }
}

type FailedWhere = { pod?: string; container?: string };

function rolloutFailure(
  namespace: string,
  name: string,
  d: V1Deployment,
  reason: RolloutFailureReason,
  message: string,
  where: FailedWhere,
): RolloutFailure {
  const revision = revisionOf(d);
  return new RolloutFailure(
    reason,
    `Deployment ${name} (namespace ${namespace}, revision ${revision}): ${message}`,
    { deployment: name, namespace, revision, ...where },
  );
}

/**
 * The Deployment and the pods its selector picks, kept by two resumable watches, with the failure reasons
 * those pods show (sightings); every change, a lost watch and an abort wake the tracking loop.
 */
class RolloutWatch {
  deployment: V1Deployment | undefined;
  fatal: Error | undefined;
  /** by pod/container/reason */
  readonly sightings = new Map<string, Sighting>();
  private readonly pods = new Set<string>();
  private readonly wake = new Wakeup();
  private readonly deploymentWatch: ResumableWatch<V1Deployment>;
  private readonly podWatch: ResumableWatch<V1Pod>;
  private readonly signal: AbortSignal | undefined;
  private readonly notify = () => this.wake.notify();

  constructor(
    cluster: Cluster,
    namespace: string,
    name: string,
    initial: V1Deployment,
    options: TrackOptions,
  ) {
    this.deployment = initial;
    const common = {
      timeoutSeconds: options.watchTimeoutSeconds ?? 25,
      onFatal: (e: Error) => {
        this.fatal = e;
        this.notify();
      },
    };
    this.deploymentWatch = new ResumableWatch<V1Deployment>(cluster, deploymentPath(namespace), {
      ...common,
      query: { fieldSelector: `metadata.name=${name}` },
      onReset: (items) => {
        this.deployment = items[0];
        this.notify();
      },
      onEvent: (type, object) => {
        this.deployment = type === 'DELETED' ? undefined : object;
        this.notify();
      },
    });
    this.podWatch = new ResumableWatch<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods`, {
      ...common,
      query: { labelSelector: selectorString(initial.spec?.selector) },
      onReset: (items) => {
        const listed = new Set(items.map((p) => p.metadata?.name ?? ''));
        for (const podName of [...this.pods]) if (!listed.has(podName)) this.forgetPod(podName);
        const now = Date.now();
        for (const pod of items) this.seePod(pod, now);
        this.notify();
      },
      onEvent: (type, pod) => {
        if (type === 'DELETED') this.forgetPod(pod.metadata?.name ?? '');
        else this.seePod(pod, Date.now());
        this.notify();
      },
    });
    this.signal = options.signal;
    this.signal?.addEventListener('abort', this.notify);
  }

  async start(): Promise<void> {
    await this.deploymentWatch.start();
    await this.podWatch.start();
  }

  get reconnects(): number {
    return this.deploymentWatch.reconnects + this.podWatch.reconnects;
  }

  /** Until the next change, or `ms`. */
  wait(ms: number): Promise<void> {
    return this.wake.wait(ms);
  }

  stop(): void {
    this.signal?.removeEventListener('abort', this.notify);
    this.deploymentWatch.stop();
    this.podWatch.stop();
    this.wake.cancel();
  }

  /** Records the pod's failure reasons, keeping when each was first seen, and drops those it no longer shows. */
  private seePod(pod: V1Pod, now: number): void {
    const podName = pod.metadata?.name ?? '';
    this.pods.add(podName);
    const current = new Set<string>();
    for (const s of podProblems(pod)) {
      const key = `${podName}/${s.container}/${s.reason}`;
      current.add(key);
      const seen = this.sightings.get(key);
      this.sightings.set(key, {
        ...s,
        pod: podName,
        hash: pod.metadata?.labels?.[podTemplateHashLabel] ?? '',
        since: seen?.since ?? now,
        observations: (seen?.observations ?? 0) + 1,
      });
    }
    for (const key of this.sightings.keys())
      if (key.startsWith(`${podName}/`) && !current.has(key)) this.sightings.delete(key);
  }

  private forgetPod(podName: string): void {
    this.pods.delete(podName);
    for (const key of this.sightings.keys()) if (key.startsWith(`${podName}/`)) this.sightings.delete(key);
  }
}

/**
 * The grace a failure reason of a new pod is given before it fails the rollout: a time or a count of
 * observations (whichever comes first), a time alone for an unschedulable pod and a pull with
 * imagePullSecrets, a count of restarts for a crash loop. Each sighting still within its grace is
 * announced once.
 */
class PodGrace {
  private readonly announced = new Set<string>();
  private readonly graceMs: number;
  private readonly graceObservations: number;
  private readonly crashLoopRestarts: number;
  private readonly unschedulableGraceMs: number;

  constructor(
    options: TrackOptions,
    private readonly say: (line: string) => void,
  ) {
    this.graceMs = options.graceMs ?? 10_000;
    this.graceObservations = options.graceObservations ?? 3;
    this.crashLoopRestarts = options.crashLoopRestarts ?? 3;
    this.unschedulableGraceMs = options.unschedulableGraceMs ?? 60_000;
  }

  /** The first sighting on pods of the new ReplicaSet (`hash`) past its grace; undefined while none is. */
  judge(
    sightings: Iterable<Sighting>,
    hash: string | undefined,
    now: number,
  ): { reason: RolloutFailureReason; message: string; where: FailedWhere } | undefined {
    if (!hash) return undefined;
    for (const s of sightings) {
      if (s.hash !== hash) continue;
      const heldMs = now - s.since;
      const limit = this.limitOf(s);
      const crashLooping = s.reason === 'CrashLoopBackOff' && s.restarts >= this.crashLoopRestarts;
      const counted = s.reason !== 'Unschedulable' && !s.secretPull;
      const held = heldMs >= limit || (counted && s.observations >= this.graceObservations);
      if (crashLooping || held)
        return {
          reason: s.reason as RolloutFailureReason,
          message: describeSighting(s, heldMs),
          where: { pod: s.pod, ...(s.container ? { container: s.container } : {}) },
        };
      const key = `${s.pod}/${s.container}/${s.reason}`;
      if (!this.announced.has(key)) {
        this.announced.add(key);
        this.say(
          `${describeSighting(s, heldMs)}; waiting up to ${Math.round(limit / 1000)}s for it to recover`,
        );
      }
    }
    return undefined;
  }

  private limitOf(s: Sighting): number {
    if (s.reason === 'Unschedulable') return this.unschedulableGraceMs;
    return s.secretPull ? Math.max(this.graceMs, pullSecretGraceMs) : this.graceMs;
  }
}

function sameRevision(rs: V1ReplicaSet, d: V1Deployment): boolean {
  return revisionOf(rs) === revisionOf(d) && revisionOf(d) > 0;
}

async function findNewReplicaSet(cluster: Cluster, d: V1Deployment): Promise<V1ReplicaSet | undefined> {
  try {
    return newReplicaSet(d, await replicaSetsOf(cluster, d));
  } catch (error) {
    throw new Error(`cannot list the ReplicaSets of Deployment ${d.metadata?.name}: ${errorText(error)}`, {
      cause: error,
    });
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
