import type { V1PodSpec } from '@kubernetes/client-node';
import { type Finding, finding } from './findings.js';
import { type LimitRange, podTotals } from './pods.js';
import { type Amounts, add, amounts, formatAmount, resourceNoun } from './quantity.js';

// LimitRange and ResourceQuota admission, done before the apply: a rejected pod shows up only as a
// ReplicaSet FailedCreate event after the rollout started. The same rules as the LimitRanger and
// ResourceQuota admission plugins, for the pods the rollout creates. Pure.

export interface ResourceQuota {
  metadata?: { name?: string };
  spec?: { hard?: Record<string, string>; scopes?: string[]; scopeSelector?: unknown };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

export function checkLimitRanges(
  workload: string,
  spec: V1PodSpec | undefined,
  ranges: LimitRange[],
): Finding[] {
  const findings: Finding[] = [];
  const totals = podTotals(spec, ranges);
  for (const range of ranges) {
    const name = range.metadata?.name ?? '?';
    for (const item of range.spec?.limits ?? []) {
      if (item.type === 'Container')
        for (const c of totals.containers)
          findings.push(
            ...limitFindings(
              `${workload}: container ${c.name}`,
              `LimitRange '${name}'`,
              'Container',
              item,
              c.requests,
              c.limits,
            ),
          );
      else if (item.type === 'Pod')
        findings.push(
          ...limitFindings(
            `${workload}: each pod`,
            `LimitRange '${name}'`,
            'Pod',
            item,
            totals.requests,
            totals.limits,
          ),
        );
    }
  }
  return findings;
}

function limitFindings(
  who: string,
  range: string,
  per: string,
  item: {
    min?: Record<string, string>;
    max?: Record<string, string>;
    maxLimitRequestRatio?: Record<string, string>;
  },
  requests: Amounts,
  limits: Amounts,
): Finding[] {
  const out: Finding[] = [];
  const say = (message: string) =>
    out.push(finding('admission', `${who}: ${message}; the pods would be rejected (FailedCreate)`));
  const show = (r: string, v: number) =>
    `${formatAmount(r, v)}${r === 'cpu' ? ' CPU' : r === 'memory' ? ' memory' : ` ${r}`}`;
  for (const [r, min] of Object.entries(amounts(item.min))) {
    const req = requests[r];
    if (req === undefined)
      say(
        `${range} requires at least ${show(r, min)} per ${per}, and it requests none; set resources.requests.${r}`,
      );
    else if (req < min)
      say(`${range} requires at least ${show(r, min)} per ${per}; it requests ${formatAmount(r, req)}`);
  }
  for (const [r, max] of Object.entries(amounts(item.max))) {
    const lim = limits[r];
    if (lim === undefined)
      say(
        `${range} allows at most ${show(r, max)} per ${per} and needs a limit, which it does not set; set resources.limits.${r}`,
      );
    else if (lim > max)
      say(`${range} allows at most ${show(r, max)} per ${per}; its limit is ${formatAmount(r, lim)}`);
    else if ((requests[r] ?? 0) > max)
      say(
        `${range} allows at most ${show(r, max)} per ${per}; it requests ${formatAmount(r, requests[r] ?? 0)}`,
      );
  }
  for (const [r, ratio] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const bound = Number.parseFloat(ratio);
    const lim = limits[r];
    const req = requests[r];
    if (lim === undefined || req === undefined || req === 0 || !Number.isFinite(bound)) continue;
    if (lim / req > bound)
      say(
        `${range} allows a ${resourceNoun(r)} limit at most ${ratio}× the request per ${per}; it has ${formatAmount(r, lim)} / ${formatAmount(r, req)}`,
      );
  }
  return out;
}

export interface QuotaInput {
  workload: string;
  namespace: string;
  spec: V1PodSpec | undefined;
  /** pods alive at once during the rollout (replicas, plus the surge when old pods stay until new are ready) */
  pods: number;
  /** what this workload's current pods use now: the rollout replaces them */
  ownPods: V1PodSpec[];
  /** objects the apply creates, by quota resource name (count/deployments.apps, services, ...) */
  created: Record<string, number>;
}

/** Quotas whose scopes this check can decide for a Deployment's pods; other scopes are left alone. */
function applies(q: ResourceQuota, bestEffort: boolean, terminating: boolean): boolean {
  if (q.spec?.scopeSelector) return false;
  return (q.spec?.scopes ?? []).every(
    (s) =>
      (s === 'NotBestEffort' && !bestEffort) ||
      (s === 'BestEffort' && bestEffort) ||
      (s === 'NotTerminating' && !terminating) ||
      (s === 'Terminating' && terminating),
  );
}

export function checkQuotas(input: QuotaInput, quotas: ResourceQuota[], ranges: LimitRange[]): Finding[] {
  const totals = podTotals(input.spec, ranges);
  const bestEffort = Object.keys(totals.requests).length === 0 && Object.keys(totals.limits).length === 0;
  const terminating = input.spec?.activeDeadlineSeconds !== undefined;
  const usage = (spec: V1PodSpec | undefined): Amounts => {
    const t = podTotals(spec);
    const out: Amounts = { pods: 1, 'count/pods': 1 };
    for (const [r, v] of Object.entries(t.requests)) {
      out[`requests.${r}`] = v;
      if (r === 'cpu' || r === 'memory' || r === 'ephemeral-storage') out[r] = v;
    }
    for (const [r, v] of Object.entries(t.limits)) out[`limits.${r}`] = v;
    return out;
  };
  const perPod = usage(input.spec);
  let own: Amounts = {};
  for (const spec of input.ownPods) own = add(own, usage(spec));

  const findings: Finding[] = [];
  for (const q of quotas) {
    const name = q.metadata?.name ?? '?';
    const hard = amounts(q.status?.hard ?? q.spec?.hard);
    const used = amounts(q.status?.used);
    const podScoped = applies(q, bestEffort, terminating);
    for (const [resource, limit] of Object.entries(hard)) {
      const base = resource.replace(/^(requests|limits)\./, '');
      // requests.storage is the claims' (PersistentVolumeClaims), not a container's
      const compute =
        (/^(requests|limits)\./.test(resource) && base !== 'storage') ||
        ['cpu', 'memory', 'ephemeral-storage'].includes(resource);
      const figure = (v: number) => formatAmount(base, v);
      if (podScoped && compute && perPod[resource] === undefined) {
        const field = resource.startsWith('limits.')
          ? `resources.limits.${base}`
          : `resources.requests.${base}`;
        findings.push(
          finding(
            'admission',
            `${input.workload}: ResourceQuota '${name}' in namespace '${input.namespace}' limits ${resource}, so every container must set ${field}, and a container of the pod does not; the pods would be rejected (FailedCreate); set it (or a LimitRange default)`,
          ),
        );
        continue;
      }
      const need =
        podScoped && perPod[resource] !== undefined
          ? perPod[resource] * input.pods
          : (input.created[resource] ?? 0);
      if (need === 0) continue;
      const others = Math.max(0, (used[resource] ?? 0) - (podScoped ? (own[resource] ?? 0) : 0));
      if (others + need <= limit) continue;
      const each = podScoped ? perPod[resource] : undefined;
      const ofPods = each !== undefined;
      const what = ofPods
        ? `the rollout needs ${input.pods} × ${figure(each)} = ${figure(need)}`
        : `the apply creates ${need}`;
      findings.push(
        finding(
          'admission',
          ofPods
            ? `${input.workload}: ResourceQuota '${name}' in namespace '${input.namespace}' allows ${resource} ${figure(limit)}; ${figure(others)} is used by other objects and ${what}; the pods would be rejected (exceeded quota); lower the requests or replicas, or raise the quota`
            : `the set: ResourceQuota '${name}' in namespace '${input.namespace}' allows ${resource} ${figure(limit)}; ${figure(others)} is used by other objects and ${what}; the last of them would be refused midway (exceeded quota); remove objects from the manifests or raise the quota`,
        ),
      );
    }
  }
  return findings;
}
