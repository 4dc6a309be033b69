import type { Manifest } from './load.js';

// An HTTPRoute checked as an Ingress is (validate.ts): it names its parents, every backend Service of the set
// it sends to has the port it names, and its hostnames are names a Gateway listener can match. A backend
// Service that is not in the set may exist in the cluster: preflight checks that one. Pure.

type Json = Record<string, unknown>;

// RFC 1123 subdomain, lowercase, with an optional leading '*.' (the Gateway API's Hostname type)
const hostnameRule = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Why `host` is not a Gateway API hostname, or undefined when it is one. */
export function hostnameProblem(host: unknown): string | undefined {
  if (typeof host !== 'string' || host === '') return `hostname ${JSON.stringify(host)} is empty`;
  if (host.includes(':'))
    return `hostname '${host}' has a port or is an IPv6 address; a hostname is a DNS name only, the port is the Gateway listener's`;
  if (ipv4.test(host)) return `hostname '${host}' is an IP address; HTTPRoute hostnames are DNS names`;
  if (host.length > 253) return `hostname '${host.slice(0, 40)}...' is longer than 253 characters`;
  if (!hostnameRule.test(host))
    return `hostname '${host}' is not a DNS name (lowercase letters, digits, '-' and '.', optionally starting with '*.')`;
  return undefined;
}

/** The backendRefs of a route (each rule's), with where they are. */
export function routeBackends(route: Json): { rule: number; ref: Json }[] {
  const spec = (route.spec ?? {}) as Json;
  const rules = (Array.isArray(spec.rules) ? spec.rules : []) as Json[];
  return rules.flatMap((rule, i) =>
    ((Array.isArray(rule.backendRefs) ? rule.backendRefs : []) as Json[]).map((ref) => ({ rule: i, ref })),
  );
}

/** A backendRef that names a core Service (kind Service or none, group '' or none). */
export function isServiceRef(ref: Json): boolean {
  return (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '';
}

export function checkHttpRoute(m: Manifest, services: Manifest[], fail: (message: string) => void): void {
  const route = m.object as Json;
  const spec = (route.spec ?? {}) as Json;
  const parents = spec.parentRefs;
  if (!Array.isArray(parents) || parents.length === 0)
    fail(
      `has no spec.parentRefs, so no Gateway serves it; add parentRefs: [{name: <gateway>, namespace: <its namespace>}] (or set the action's input 'gateway: namespace/name')`,
    );
  else
    for (const [i, parent] of (parents as Json[]).entries())
      if (typeof parent?.name !== 'string' || parent.name === '')
        fail(`spec.parentRefs[${i}] has no name; name the Gateway the route attaches to`);
  if (spec.hostnames !== undefined && !Array.isArray(spec.hostnames))
    fail(`spec.hostnames must be a list of DNS names`);
  for (const host of (Array.isArray(spec.hostnames) ? spec.hostnames : []) as unknown[]) {
    const problem = hostnameProblem(host);
    if (problem) fail(`spec.hostnames: ${problem}`);
  }
  for (const { rule, ref } of routeBackends(route)) {
    if (!isServiceRef(ref)) continue;
    const backend = `rules[${rule}].backendRefs '${String(ref.name)}'`;
    if (typeof ref.name !== 'string' || ref.name === '') {
      fail(`a backendRef of rules[${rule}] has no name; name the Service it sends to`);
      continue;
    }
    // another namespace's Service, or one not in the set: preflight checks that it exists
    if (ref.namespace !== undefined && ref.namespace !== (route.metadata as Json | undefined)?.namespace)
      continue;
    const target = services.find((s) => s.object.metadata?.name === ref.name);
    if (!target) continue;
    const ports = (((target.object as Json).spec as Json | undefined)?.ports ?? []) as Json[];
    if (ref.port === undefined) {
      fail(
        `${backend} names no port; a backendRef to a Service needs one (Service/${ref.name} has ${ports.map((p) => p.port).join(', ') || 'none'})`,
      );
      continue;
    }
    if (!ports.some((p) => p.port === ref.port))
      fail(
        `${backend} port ${JSON.stringify(ref.port)} is not a port of Service/${ref.name} (it has ${ports.map((p) => p.port).join(', ') || 'none'}); set port to one of them (by number)`,
      );
  }
}

/** Backend Services the routes of the set name that the set does not hold: preflight reads them. */
export function outsideBackends(
  manifests: Manifest[],
): { route: string; namespace?: string; name: string }[] {
  const inSet = new Set(
    manifests.filter((m) => m.object.kind === 'Service').map((m) => m.object.metadata?.name),
  );
  const found: { route: string; namespace?: string; name: string }[] = [];
  for (const m of manifests.filter((m) => m.object.kind === 'HTTPRoute')) {
    const own = m.object.metadata?.namespace;
    for (const { ref } of routeBackends(m.object as Json)) {
      if (!isServiceRef(ref) || typeof ref.name !== 'string') continue;
      const namespace = (ref.namespace as string | undefined) ?? own;
      if (namespace === own && inSet.has(ref.name)) continue;
      found.push({
        route: m.object.metadata?.name ?? '',
        ...(namespace ? { namespace } : {}),
        name: ref.name,
      });
    }
  }
  return found;
}
