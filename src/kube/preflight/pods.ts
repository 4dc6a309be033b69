import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { type Amounts, add, amounts, max } from './quantity.js';

// What a pod asks of the scheduler and of admission, computed from its spec the way the API server and the
// scheduler do: requests default to limits (core/v1 SetDefaults_Pod), then LimitRange defaults fill what is
// still unset (the LimitRanger admission plugin); the pod's request is the larger of its containers' sum and
// its largest init container (scheduler noderesources), plus any pod overhead. Pure.

/** A LimitRange as the API server sends it (the library's type calls `default` `_default`). */
export interface LimitRange {
  metadata?: { name?: string };
  spec?: { limits?: LimitRangeItem[] };
}

export interface LimitRangeItem {
  type?: string;
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  min?: Record<string, string>;
  max?: Record<string, string>;
  maxLimitRequestRatio?: Record<string, string>;
}

export interface ContainerResources {
  name: string;
  init: boolean;
  requests: Amounts;
  limits: Amounts;
}

export function containerResources(
  spec: V1PodSpec | undefined,
  limitRanges: LimitRange[] = [],
): ContainerResources[] {
  const defaults = limitRanges.flatMap((lr) => (lr.spec?.limits ?? []).filter((l) => l.type === 'Container'));
  const one = (c: V1Container, init: boolean): ContainerResources => {
    const limits = amounts(c.resources?.limits as Record<string, unknown> | undefined);
    const requests = { ...limits, ...amounts(c.resources?.requests as Record<string, unknown> | undefined) };
    for (const d of defaults) {
      for (const [k, v] of Object.entries(amounts(d.default))) if (limits[k] === undefined) limits[k] = v;
      for (const [k, v] of Object.entries(amounts(d.defaultRequest)))
        if (requests[k] === undefined) requests[k] = v;
    }
    return { name: c.name, init, requests, limits };
  };
  return [
    ...(spec?.initContainers ?? []).map((c) => one(c, true)),
    ...(spec?.containers ?? []).map((c) => one(c, false)),
  ];
}

/** The requests the scheduler places the pod by. */
export function podRequests(spec: V1PodSpec | undefined, limitRanges: LimitRange[] = []): Amounts {
  const containers = containerResources(spec, limitRanges);
  const sidecars = new Set(
    (spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
  let sum: Amounts = {};
  for (const c of containers) if (!c.init || sidecars.has(c.name)) sum = add(sum, c.requests);
  let init: Amounts = {};
  for (const c of containers) if (c.init && !sidecars.has(c.name)) init = max(init, c.requests);
  return add(max(sum, init), amounts(spec?.overhead as Record<string, unknown> | undefined));
}

/** Requests and limits summed over the pod (what ResourceQuota counts as requests.* and limits.*). */
export function podTotals(
  spec: V1PodSpec | undefined,
  limitRanges: LimitRange[] = [],
): { requests: Amounts; limits: Amounts; containers: ContainerResources[] } {
  const containers = containerResources(spec, limitRanges);
  let limits: Amounts = {};
  let initLimits: Amounts = {};
  for (const c of containers)
    if (c.init) initLimits = max(initLimits, c.limits);
    else limits = add(limits, c.limits);
  return { requests: podRequests(spec, limitRanges), limits: max(limits, initLimits), containers };
}
