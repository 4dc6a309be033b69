import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cluster } from '../../kube/client/client.js';
import type { Manifest } from '../../kube/manifests/load.js';
import { type DeployLock, type LockReads, lockEnvironment, readLock } from '../../kube/release/lock.js';
import {
  type Autoscaler,
  leaveReplicasToAutoscalers,
  readAutoscalers,
} from '../../kube/rollout/autoscale.js';
import type { DeployPlan } from '../../plan.js';
import { thisRun } from '../../runner.js';
import type { DeployRun } from './run.js';

// One deploy at a time per environment, and never an older commit's over a newer one's (kube/release/lock.ts).
// Its first reads, and the autoscalers', need nothing the build makes: a deploy of an image the registry
// already holds asks for them while it asks the registry, and takes the lock with one write.

/** Reads taken ahead of the lock: the Lease, its namespace, the namespace's autoscalers. */
export interface ReadAhead {
  lock: LockReads;
  autoscalers: Promise<Autoscaler[]>;
}

export function readAhead(cluster: Cluster, plan: DeployPlan): ReadAhead {
  const autoscalers = readAutoscalers(cluster, plan.namespace);
  // awaited by lockForDeploy, or dropped when a build ran meanwhile
  autoscalers.catch(() => undefined);
  return { lock: readLock(cluster, plan.namespace, plan.render.instance), autoscalers };
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

/**
 * The environment's lock, taken before preflight so that what preflight reads (its dry-runs too) holds
 * until the apply; a workload an autoscaler scales keeps the autoscaler's replicas: read meanwhile.
 */
export async function lockForDeploy(ctx: DeployRun, manifests: Manifest[]): Promise<Locked> {
  const { settings, cluster, plan, ahead } = ctx;
  const [scaled, locked] = await Promise.allSettled([
    leaveReplicasToAutoscalers(
      cluster,
      plan.namespace,
      manifests,
      (line) => core.info(line),
      ahead?.autoscalers,
    ),
    lockEnvironment(cluster, {
      namespace: plan.namespace,
      instance: plan.render.instance,
      run: { ...thisRun(), sha: ctx.run.sha },
      rolloutTimeoutMs: settings.rolloutTimeoutMs,
      ...(ahead ? { reads: ahead.lock } : {}),
    }),
  ]);
  if (locked.status === 'rejected') throw locked.reason;
  if (scaled.status === 'rejected') {
    await locked.value[Symbol.asyncDispose]();
    throw scaled.reason;
  }
  return { lock: locked.value, ...scaled.value };
}
