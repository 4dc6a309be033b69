import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { type Finding, finding } from './findings.js';
import { podRequests } from './pods.js';
import { type Amounts, add, amounts, formatAmount, resourceNoun } from './quantity.js';
import type { Eligibility } from './scheduling.js';
import { nameList } from './scheduling.js';

// The write-up's second pain: a 2-core node with 1900m allocatable, 1670m already requested by system pods,
// and a Deployment whose pods ask for more than the 230m left. The scheduler's arithmetic, done before the
// apply: per node it may use, allocatable minus the requests of the pods bound there (not this Deployment's
// own, which the rollout replaces), against the pods the rollout needs at once. Pure.

export interface CapacityInput {
  /** "Deployment/archetype" */
  workload: string;
  replicas: number;
  /** pods the rolling update adds while all old ones still run (maxSurge when maxUnavailable is 0) */
  surge: number;
  /** one pod's requests */
  request: Amounts;
  /** every node, with why the pod may not go there */
  nodes: Eligibility[];
  /** pods bound to nodes that stay during the rollout (not this Deployment's) */
  boundPods: V1Pod[];
}

interface NodeRoom {
  name: string;
  allocatable: Amounts;
  requested: Amounts;
  free: Amounts;
  freePods: number;
  /** pods of the requested size that fit now */
  fits: number;
  /** the pod fits the empty node */
  fitsEmpty: boolean;
}

export function checkCapacity(input: CapacityInput): Finding[] {
  const { workload, replicas, surge, request } = input;
  if (replicas <= 0) return [];
  const eligible = input.nodes.filter((e) => !e.excluded).map((e) => e.node);
  if (eligible.length === 0) {
    const reasons = input.nodes.map((e) => `${e.node.metadata?.name}: ${e.excluded}`);
    return [
      finding(
        'capacity',
        input.nodes.length === 0
          ? `${workload}: the cluster has no nodes to run its pods; add a node pool`
          : `${workload}: no node may run its pods (${nameList(reasons, 4)}); fix the nodeSelector, affinity or tolerations in the manifests, or add a node that matches`,
      ),
    ];
  }
  const resources = Object.keys(request).filter((r) => (request[r] ?? 0) > 0);
  const rooms = eligible.map((node) => roomOn(node, input.boundPods, request, resources));
  const each = `each pod requests ${describeRequest(request, resources)}`;

  if (!rooms.some((r) => r.fitsEmpty)) {
    const short = resources.find((r) =>
      rooms.every((room) => (room.allocatable[r] ?? 0) < (request[r] ?? 0)),
    );
    const largest = short
      ? [...rooms].sort((a, b) => (b.allocatable[short] ?? 0) - (a.allocatable[short] ?? 0))[0]
      : undefined;
    return [
      finding(
        'capacity',
        `${workload}: ${each}, more than any node it may use can hold` +
          (short && largest
            ? ` (the largest has ${formatAmount(short, largest.allocatable[short] ?? 0)} ${resourceNoun(short)} allocatable: ${largest.name})`
            : ` (${rooms.map((r) => `${r.name}: ${describeAmounts(r.allocatable, resources)} allocatable`).join('; ')})`) +
          '; lower the requests, or add a node pool with larger nodes',
        true,
      ),
    ];
  }

  const total = rooms.reduce((sum, r) => sum + r.fits, 0);
  if (total === 0) {
    const fix = 'lower the requests or add a node';
    const short = resources.find((r) => rooms.every((room) => (room.free[r] ?? 0) < (request[r] ?? 0)));
    if (short) {
      const best = [...rooms].sort((a, b) => (b.free[short] ?? 0) - (a.free[short] ?? 0))[0] as NodeRoom;
      const noun = resourceNoun(short);
      return [
        finding(
          'capacity',
          `${workload}: ${each}; the most free ${noun} on any eligible node is ${formatAmount(short, Math.max(0, best.free[short] ?? 0))} ` +
            `(${best.name}: ${formatAmount(short, best.allocatable[short] ?? 0)} allocatable, ${formatAmount(short, best.requested[short] ?? 0)} requested); ${fix}`,
        ),
      ];
    }
    if (rooms.every((r) => r.freePods <= 0))
      return [
        finding(
          'capacity',
          `${workload}: every eligible node is at its pod limit (${rooms.map((r) => `${r.name}: ${r.allocatable.pods} pods`).join(', ')}); add a node`,
        ),
      ];
    return [
      finding(
        'capacity',
        `${workload}: ${each}; no eligible node has all of it free (${rooms.map((r) => `${r.name}: ${describeAmounts(r.free, resources)} free`).join('; ')}); ${fix}`,
      ),
    ];
  }

  const wanted = replicas + surge;
  if (total < wanted) {
    const why =
      surge > 0
        ? `${replicas} replicas + ${surge} more while the rolling update runs`
        : `${replicas} replicas`;
    const fix =
      surge > 0 && total >= replicas
        ? 'set maxUnavailable: 1 (or more) in the rolling update strategy so old pods make room, lower the requests, or add a node'
        : 'lower the requests or the replicas, or add a node';
    return [
      finding(
        'capacity',
        `${workload} needs room for ${wanted} pods (${why}) of ${describeRequest(request, resources)} each; the nodes it may use have room for ${total} ` +
          `(${rooms.map((r) => `${r.name}: ${r.fits}, ${describeAmounts(r.free, resources)} free`).join('; ')}); ${fix}`,
      ),
    ];
  }
  return [];
}

function roomOn(node: V1Node, pods: V1Pod[], request: Amounts, resources: string[]): NodeRoom {
  const name = node.metadata?.name ?? '?';
  const allocatable = amounts(node.status?.allocatable as Record<string, unknown> | undefined);
  let requested: Amounts = {};
  let count = 0;
  for (const pod of pods) {
    if (pod.spec?.nodeName !== name) continue;
    requested = add(requested, podRequests(pod.spec));
    count++;
  }
  const free: Amounts = {};
  for (const r of new Set([...resources, ...Object.keys(allocatable)]))
    free[r] = (allocatable[r] ?? 0) - (requested[r] ?? 0);
  const freePods = allocatable.pods === undefined ? Number.POSITIVE_INFINITY : allocatable.pods - count;
  let fits = Math.max(0, freePods);
  for (const r of resources) fits = Math.min(fits, Math.floor(Math.max(0, free[r] ?? 0) / (request[r] ?? 1)));
  const fitsEmpty = resources.every((r) => (allocatable[r] ?? 0) >= (request[r] ?? 0));
  return {
    name,
    allocatable,
    requested,
    free,
    freePods,
    fits: Number.isFinite(fits) ? fits : 1_000_000,
    fitsEmpty,
  };
}

/** "250m CPU and 256Mi" */
export function describeRequest(request: Amounts, resources = Object.keys(request)): string {
  const parts = resources.map((r) =>
    r === 'cpu'
      ? `${formatAmount(r, request[r] ?? 0)} CPU`
      : r === 'memory'
        ? formatAmount(r, request[r] ?? 0)
        : `${formatAmount(r, request[r] ?? 0)} ${r}`,
  );
  if (parts.length === 0) return 'nothing';
  return parts.length === 1 ? (parts[0] as string) : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

function describeAmounts(values: Amounts, resources: string[]): string {
  return resources
    .map((r) => `${formatAmount(r, Math.max(0, values[r] ?? 0))} ${resourceNoun(r)}`)
    .join(', ');
}

/**
 * The rolling update's fenceposts as the deployment controller resolves them (maxSurge rounds up,
 * maxUnavailable down, both default 25%; both 0 becomes maxUnavailable 1). Recreate surges by nothing.
 */
export function rollingUpdate(spec: {
  replicas?: number;
  strategy?: {
    type?: string;
    rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
  };
}): { surge: number; unavailable: number } {
  const replicas = spec.replicas ?? 1;
  if (spec.strategy?.type === 'Recreate') return { surge: 0, unavailable: replicas };
  const resolve = (value: number | string | undefined, up: boolean) => {
    const v = value ?? '25%';
    if (typeof v === 'number') return v;
    const percent = /^(\d+)%$/.exec(v);
    if (!percent) return Number(v) || 0;
    const exact = (Number(percent[1]) * replicas) / 100;
    return up ? Math.ceil(exact) : Math.floor(exact);
  };
  const surge = resolve(spec.strategy?.rollingUpdate?.maxSurge, true);
  let unavailable = resolve(spec.strategy?.rollingUpdate?.maxUnavailable, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
