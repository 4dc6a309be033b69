import type { KubernetesObject } from '@kubernetes/client-node';
import type { FrontDoor } from './front-door.js';

// Where the front-door GET goes for an HTTPRoute (pure): its parent Gateway's address (status) and the port
// of the listener it attaches to, with a hostname of the route, along a rule that sends the smoke path to a
// Service whose check passed.

/** A parentRef of a route (Gateway API CommonRouteSpec), and a status condition. */
export type ParentRef = {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
};
export type Condition = { type: string; status: string; reason?: string; message?: string };

export type RouteObject = KubernetesObject & {
  spec?: {
    parentRefs?: ParentRef[];
    hostnames?: string[];
    rules?: {
      matches?: {
        path?: { type?: string; value?: string };
        method?: string;
        headers?: unknown[];
        queryParams?: unknown[];
      }[];
      backendRefs?: { group?: string; kind?: string; name: string; namespace?: string; weight?: number }[];
    }[];
  };
};

export type GatewayObject = KubernetesObject & {
  spec?: { listeners?: { name: string; port: number; protocol: string; hostname?: string }[] };
  status?: { addresses?: { type?: string; value: string }[] };
};

/** Does an HTTPRoute match (Exact or PathPrefix; no header, query or non-GET method condition) take `path`? */
function takes(
  match: NonNullable<NonNullable<RouteObject['spec']>['rules']>[number]['matches'],
  path: string,
): boolean {
  const bare = path.split('?')[0] ?? path;
  const all = match?.length ? match : [{}];
  return all.some((m) => {
    if (m.headers?.length || m.queryParams?.length || (m.method && m.method !== 'GET')) return false;
    const type = m.path?.type ?? 'PathPrefix';
    const value = m.path?.value ?? '/';
    if (type === 'Exact') return bare === value;
    if (type !== 'PathPrefix') return false;
    const prefix = value.replace(/\/+$/, '');
    return prefix === '' || bare === prefix || bare.startsWith(`${prefix}/`);
  });
}

/** The parentRefs of kind Gateway, each with its namespace. */
export function parentGateways(route: RouteObject): { namespace: string; name: string }[] {
  const own = route.metadata?.namespace ?? '';
  return (route.spec?.parentRefs ?? [])
    .filter(
      (p) =>
        (p.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' &&
        (p.kind ?? 'Gateway') === 'Gateway',
    )
    .map((p) => ({ namespace: p.namespace ?? own, name: p.name }));
}

/**
 * The door of an HTTPRoute through the first of `gateways` (read back from the cluster, keyed namespace/name)
 * that has an address, or why there is none.
 */
export function routeDoorOf(
  route: RouteObject,
  gateways: Map<string, GatewayObject>,
  services: Set<string>,
  path: string,
): FrontDoor | string {
  const name = `HTTPRoute/${route.metadata?.name ?? ''}`;
  const rule = route.spec?.rules?.find(
    (r) =>
      takes(r.matches, path) &&
      (r.backendRefs ?? []).some(
        (b) =>
          (b.kind ?? 'Service') === 'Service' &&
          !b.group &&
          !b.namespace &&
          services.has(b.name) &&
          (b.weight ?? 1) > 0,
      ),
  );
  if (!rule)
    return `${name} has no rule that sends GET ${path} to ${[...services].map((s) => `Service/${s}`).join(', ')}`;
  const service = rule.backendRefs?.find((b) => services.has(b.name) && (b.weight ?? 1) > 0)?.name ?? '';
  for (const ref of route.spec?.parentRefs ?? []) {
    if ((ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const gateway = gateways.get(`${ref.namespace ?? route.metadata?.namespace}/${ref.name}`);
    const address = gateway?.status?.addresses?.find((a) => a.value)?.value;
    if (!gateway || !address) continue;
    const listener = gateway.spec?.listeners?.find(
      (l) =>
        (l.protocol === 'HTTP' || l.protocol === 'HTTPS') &&
        (!ref.sectionName || l.name === ref.sectionName) &&
        (!ref.port || l.port === ref.port),
    );
    if (!listener) continue;
    const named = [...(route.spec?.hostnames ?? []), listener.hostname ?? ''].find(
      (h) => h && !h.startsWith('*.'),
    );
    return {
      via: `${name} (Gateway ${gateway.metadata?.namespace}/${gateway.metadata?.name})`,
      host: named ?? address,
      path,
      scheme: listener.protocol === 'HTTPS' ? 'https' : 'http',
      address,
      port: listener.port,
      service,
    };
  }
  return `${name}'s Gateway has no address yet (its controller writes one)`;
}
