import type { KubernetesObject } from '@kubernetes/client-node';
import { canaryLabel, canaryLabelValue, canaryName, canaryProbeHeader } from '../../names.js';
import { type Manifest, where } from '../manifests/load.js';

// What a canary is made of, from the rendered set, as pure objects: the Deployment an HTTPRoute reaches through
// a Service gets a twin `<name>-canary` with the new template, behind its own Service `<service>-canary`;
// the route's rules that send to the Service send to both, by weight, and two copies of each such rule,
// matched on a header only the action's probes send, reach one side each, so that each is measured alone
// through the same controller. The stable Deployment and Service are not touched until promotion.

type Json = Record<string, unknown>;
type Obj = KubernetesObject & Json;
type BackendRef = {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  port?: number;
  weight?: number;
};
type Match = { path?: Json; headers?: { type?: string; name: string; value: string }[] } & Json;
type Rule = { matches?: Match[]; backendRefs?: BackendRef[] } & Json;

export interface CanaryTarget {
  deployment: Obj;
  service: Obj;
  route: Obj;
}

const maxRules = 16;

/** The Deployment the set's HTTPRoute reaches through a Service, or an error naming what is missing. */
export function findCanaryTarget(set: Manifest[]): CanaryTarget {
  const of = (kind: string) => set.filter((m) => m.object.kind === kind);
  const routes = of('HTTPRoute');
  const deployments = of('Deployment');
  if (routes.length === 0)
    throw new Error(
      "strategy 'canary' splits traffic with an HTTPRoute's backend weights, and the manifests have none: add an HTTPRoute (k8s-gateway/ is the archetype's; docs/gateway-api.md) or use strategy 'rolling'",
    );
  if (deployments.length !== 1)
    throw new Error(
      `strategy 'canary' takes a set with one Deployment; the manifests have ${deployments.length === 0 ? 'none' : deployments.map(where).join(', ')}: use strategy 'rolling'`,
    );
  const deployment = deployments[0] as Manifest;
  const podLabels =
    (spec(deployment.object).template as { metadata?: { labels?: Record<string, string> } })?.metadata
      ?.labels ?? {};
  const services = of('Service').filter((s) => {
    const selector = spec(s.object).selector as Record<string, string> | undefined;
    return (
      selector &&
      Object.keys(selector).length > 0 &&
      Object.entries(selector).every(([k, v]) => podLabels[k] === v)
    );
  });
  for (const route of routes)
    for (const service of services)
      if (rulesOf(route.object).some((r) => sendsTo(r, service.object.metadata?.name ?? '')))
        return { deployment: deployment.object, service: service.object, route: route.object };
  throw new Error(
    `strategy 'canary': no HTTPRoute of the manifests (${routes.map(where).join(', ')}) has a backendRef to a Service that selects ${where(deployment)}'s pods; route to that Service, or use strategy 'rolling'`,
  );
}

/** Pods for the canary's share: the stable replicas scaled by the weight, one at least. */
export function canaryReplicas(stableReplicas: number, weight: number): number {
  return Math.max(1, Math.ceil((stableReplicas * weight) / 100));
}

/** The canary's Deployment and Service: the new template, on labels the stable Service does not select. */
export function canaryObjects(t: CanaryTarget, replicas: number): { deployment: Obj; service: Obj } {
  const selector = (spec(t.service).selector ?? {}) as Record<string, string>;
  const moved = Object.fromEntries(Object.entries(selector).map(([k, v]) => [k, canaryLabelValue(v)]));
  const deployment = structuredClone(t.deployment);
  const d = spec(deployment);
  const template = d.template as { metadata?: { labels?: Record<string, string> } };
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, ...moved, [canaryLabel]: 'canary' },
  };
  const matchLabels = ((d.selector as { matchLabels?: Record<string, string> })?.matchLabels ?? {}) as Record<
    string,
    string
  >;
  d.selector = {
    matchLabels: {
      ...Object.fromEntries(Object.entries(matchLabels).map(([k, v]) => [k, moved[k] ?? v])),
      [canaryLabel]: 'canary',
    },
  };
  d.replicas = replicas;
  rename(deployment);
  const service = structuredClone(t.service);
  const s = spec(service);
  s.selector = { ...moved, [canaryLabel]: 'canary' };
  delete s.clusterIP;
  delete s.clusterIPs;
  rename(service);
  return { deployment, service };
}

/**
 * The route with `weight` percent of what goes to the stable Service going to the canary's, and each such
 * rule twice more, matched on the probe header: 'canary' reaches the canary alone, 'stable' the stable alone.
 */
export function routeAt(t: CanaryTarget, weight: number): Obj {
  const route = structuredClone(t.route);
  const name = t.service.metadata?.name ?? '';
  const rules = rulesOf(route);
  const split: Rule[] = [];
  const probes: Rule[] = [];
  for (const rule of rules) {
    if (!sendsTo(rule, name)) {
      split.push(rule);
      continue;
    }
    const stableRef = (rule.backendRefs ?? []).find((b) => isService(b, name)) as BackendRef;
    const canaryRef = { ...stableRef, name: canaryName(name) };
    split.push({
      ...rule,
      backendRefs: [
        ...(rule.backendRefs ?? []).filter((b) => !isService(b, name)),
        { ...stableRef, weight: 100 - weight },
        { ...canaryRef, weight },
      ],
    });
    for (const [side, ref] of [
      ['canary', canaryRef],
      ['stable', stableRef],
    ] as const)
      probes.push({ ...rule, matches: withHeader(rule.matches, side), backendRefs: [{ ...ref, weight: 1 }] });
  }
  if (split.length + probes.length > maxRules)
    throw new Error(
      `HTTPRoute/${route.metadata?.name}: a canary needs two more rules for each rule that sends to Service ${name} (the probes'), and an HTTPRoute holds at most ${maxRules}; it has ${rules.length}: use fewer rules or strategy 'rolling'`,
    );
  spec(route).rules = [...probes, ...split];
  return route;
}

function withHeader(matches: Match[] | undefined, side: 'canary' | 'stable'): Match[] {
  const header = { type: 'Exact', name: canaryProbeHeader, value: side };
  const base: Match[] =
    matches && matches.length > 0 ? matches : [{ path: { type: 'PathPrefix', value: '/' } }];
  return base.map((m) => ({ ...m, headers: [...(m.headers ?? []), header] }));
}

function spec(o: Obj): Json {
  o.spec ??= {};
  return o.spec as Json;
}

function rulesOf(route: Obj): Rule[] {
  return (spec(route).rules as Rule[] | undefined) ?? [];
}

function isService(b: BackendRef, name: string): boolean {
  return (b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service' && b.name === name && !b.namespace;
}

function sendsTo(rule: Rule, name: string): boolean {
  return (rule.backendRefs ?? []).some((b) => isService(b, name));
}

function rename(o: Obj): void {
  o.metadata ??= {};
  const metadata = o.metadata;
  metadata.name = canaryName(metadata.name ?? '');
  metadata.labels = { ...metadata.labels, [canaryLabel]: 'canary' };
  delete metadata.resourceVersion;
  delete metadata.uid;
}
