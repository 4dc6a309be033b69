import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import { findLeftCanary, type LeftCanary } from '../../kube/canary/repair.js';
import { endedBy } from '../../kube/client/abortable.js';
import type { Cluster } from '../../kube/client/client.js';
import type { Manifest } from '../../kube/manifests/load.js';
import { preflightReads } from '../../kube/preflight/preflight.js';
import type { ClusterState } from '../../kube/preflight/state.js';
import { type DeployLock, type LockReads, lockEnvironment, readLock } from '../../kube/release/lock.js';
import { readHistory } from '../../kube/release/release.js';
import {
  type Autoscaler,
  leaveReplicasToAutoscalers,
  readAutoscalers,
} from '../../kube/rollout/autoscale.js';
import type { DeployPlan } from '../../plan.js';
import { thisRun } from '../../runner.js';
import type { DeployRun } from './run.js';

// One deploy at a time per environment, and never an older commit's over a newer one's (kube/release/lock.ts).
// Its first reads, the autoscalers', and (once the Lease has answered) those made under the lock need
// nothing the build makes: a deploy of an image the registry already holds asks for them while it asks the
// registry, and runs preflight while the lock is written. They count when the lock is taken on that first
// read (takenAsRead), else they are asked again under the lock.

/** Reads taken ahead of the lock: the Lease, its namespace, the namespace's autoscalers. */
export interface ReadAhead {
  lock: LockReads;
  autoscalers: Promise<Autoscaler[]>;
  /** what the deploy reads under the lock, asked once the Lease was read: valid if the lock is takenAsRead */
  afterLease: Promise<UnderLock>;
  /** a build ran meanwhile: the reads are asked again, and these stop trying (one retry line, not two) */
  drop(): void;
}

/** The reads a deploy makes under the lock before its first write, besides preflight's dry-runs. */
export interface UnderLock {
  /** preflight's reads that need no image */
  state: ClusterState;
  history: ReturnType<typeof readHistory>;
  leftCanary: Promise<LeftCanary>;
}

/** Starts the reads under the lock (kube/release/lock.ts's takenAsRead says whether they count). */
export function readUnderLock(ctx: Pick<DeployRun, 'cluster' | 'plan'>, set: KubernetesObject[]): UnderLock {
  const { cluster, plan } = ctx;
  const { namespace } = plan;
  const { instance } = plan.render;
  const history = readHistory(cluster, namespace, instance, (line) => core.warning(line));
  const leftCanary = findLeftCanary(cluster, namespace, instance);
  history.catch(() => undefined);
  leftCanary.catch(() => undefined);
  return { state: preflightReads(cluster, namespace, set), history, leftCanary };
}

/** `set`: the manifests as checked (any image): preflight's reads depend on its shape only. */
export function readAhead(live: Cluster, plan: DeployPlan, set: KubernetesObject[]): ReadAhead {
  const dropped = new AbortController();
  const cluster = endedBy(live, dropped.signal);
  const autoscalers = readAutoscalers(cluster, plan.namespace);
  const lock = readLock(cluster, plan.namespace, plan.render.instance);
  // after the Lease's answer, never before: what a run holding the lock until then wrote is in them
  const afterLease = lock.lease.then(() => readUnderLock({ cluster, plan }, set));
  // awaited by lockForDeploy, or dropped when a build ran meanwhile
  autoscalers.catch(() => undefined);
  afterLease.catch(() => undefined);
  return { lock, autoscalers, afterLease, drop: () => dropped.abort() };
}

export interface Locked {
  lock: DeployLock;
  /** the set without the replicas an autoscaler owns */
  objects: Manifest[];
  /** "Kind/name" of each autoscaled workload */
  workloads: string[];
  /** each autoscaled workload at its live scale, for preflight */
  live: Map<string, KubernetesObject>;
}

type Scaled = Omit<Locked, 'lock'>;

/**
 * The environment's lock, taken before preflight (`check`) so that what preflight reads, its dry-runs too,
 * holds until the apply; a workload an autoscaler scales keeps the autoscaler's replicas: read meanwhile.
 * With the lock's first read taken ahead, preflight goes out while the lock is written: like the reads under
 * the lock, its answer counts when the lock is taken on that read (takenAsRead), else it runs again.
 */
export async function lockForDeploy<T>(
  ctx: DeployRun,
  manifests: Manifest[],
  check: (scaled: Scaled, reads: UnderLock) => Promise<T>,
): Promise<Locked & { reads: UnderLock; checked: T }> {
  const { settings, cluster, plan, ahead } = ctx;
  const scaling = leaveReplicasToAutoscalers(
    cluster,
    plan.namespace,
    manifests,
    (line) => core.info(line),
    ahead?.autoscalers,
  );
  const locking = lockEnvironment(cluster, {
    namespace: plan.namespace,
    instance: plan.render.instance,
    run: { ...thisRun(), sha: ctx.run.sha },
    rolloutTimeoutMs: settings.rolloutTimeoutMs,
    ...(ahead ? { reads: ahead.lock } : {}),
  });
  // not in a namespace the lock is about to make: there is nothing to read yet
  const early = ahead
    ? Promise.all([scaling, ahead.afterLease, ahead.lock.namespaceExists]).then(([scaled, reads, exists]) => {
        if (!exists) return undefined;
        const checked = check(scaled, reads);
        // judged once the lock is taken, or dropped
        checked.catch(() => undefined);
        return { reads, checked };
      })
    : undefined;
  early?.catch(() => undefined);
  const [scaled, locked] = await Promise.allSettled([scaling, locking]);
  if (locked.status === 'rejected') throw locked.reason;
  const lock = locked.value;
  try {
    if (scaled.status === 'rejected') throw scaled.reason;
    const started = lock.takenAsRead ? await early : undefined;
    if (started) return { lock, ...scaled.value, reads: started.reads, checked: await started.checked };
    if (early && (await early.catch(() => undefined)))
      core.info('the deploy lock was not taken on its first read: preflight again, under the lock');
    const reads = readUnderLock(
      ctx,
      scaled.value.objects.map((m) => m.object),
    );
    return { lock, ...scaled.value, reads, checked: await check(scaled.value, reads) };
  } catch (error) {
    await lock[Symbol.asyncDispose]();
    throw error;
  }
}
