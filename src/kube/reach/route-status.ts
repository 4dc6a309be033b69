import type { KubernetesObject } from '@kubernetes/client-node';
import { poll } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';
import { type Condition, type ParentRef, parentGateways, type RouteObject } from './front-door-route.js';

// After apply: an HTTPRoute serves nothing until each Gateway it names has accepted it. The controller says
// so in the route's status.parents (Accepted, ResolvedRefs); a refusal is the controller's reason and message
// (NotAllowedByListeners, NoMatchingListenerHostname, BackendNotFound, ...), and fails the deploy, which then
// restores the previous release like any other failure. Then each parent Gateway must be Programmed: an
// accepted route on a Gateway without an address or a running proxy serves nothing either. Pure verdicts,
// bounded wait.

export type RouteWithStatus = RouteObject & {
  status?: { parents?: { parentRef: ParentRef; controllerName?: string; conditions?: Condition[] }[] };
};

export type RouteVerdict =
  | { state: 'accepted' }
  | { state: 'pending'; waitingFor: string }
  | { state: 'refused'; reason: string };

const same = (a: ParentRef, b: ParentRef, own: string) =>
  a.name === b.name &&
  (a.namespace ?? own) === (b.namespace ?? own) &&
  (a.sectionName ?? '') === (b.sectionName ?? '') &&
  (a.port ?? 0) === (b.port ?? 0);

/** The route's state as its status says, for every parentRef that names a Gateway. */
export function routeVerdict(route: RouteWithStatus): RouteVerdict {
  const own = route.metadata?.namespace ?? '';
  const name = `HTTPRoute/${route.metadata?.name ?? ''}`;
  const refs = (route.spec?.parentRefs ?? []).filter((p) => (p.kind ?? 'Gateway') === 'Gateway');
  for (const ref of refs) {
    const gateway = `Gateway ${ref.namespace ?? own}/${ref.name}${ref.sectionName ? ` (listener ${ref.sectionName})` : ''}`;
    const entry = route.status?.parents?.find((p) => same(p.parentRef, ref, own));
    const accepted = entry?.conditions?.find((c) => c.type === 'Accepted');
    const resolved = entry?.conditions?.find((c) => c.type === 'ResolvedRefs');
    if (accepted?.status === 'False')
      return {
        state: 'refused',
        reason:
          `${name} is not accepted by ${gateway}: ${accepted.reason ?? 'no reason'}: ${accepted.message ?? ''}`.trim(),
      };
    if (resolved?.status === 'False')
      return {
        state: 'refused',
        reason:
          `${name} is accepted by ${gateway} but its backends do not resolve: ${resolved.reason ?? 'no reason'}: ${resolved.message ?? ''}`.trim(),
      };
    if (accepted?.status !== 'True') return { state: 'pending', waitingFor: `${gateway} to accept ${name}` };
  }
  return { state: 'accepted' };
}

type GatewayWithStatus = KubernetesObject & { status?: { conditions?: Condition[] } };

/** A parent Gateway's state: Programmed (its proxy and address are ready), or why not. */
export function gatewayVerdict(id: string, gateway: GatewayWithStatus | undefined): RouteVerdict {
  if (!gateway)
    return { state: 'refused', reason: `Gateway ${id} does not exist (deleted after preflight?)` };
  const programmed = gateway.status?.conditions?.find((c) => c.type === 'Programmed');
  if (programmed?.status === 'False')
    return {
      state: 'refused',
      reason:
        `Gateway ${id} is not Programmed: ${programmed.reason ?? 'no reason'}: ${programmed.message ?? ''}`.trim(),
    };
  if (programmed?.status !== 'True')
    return { state: 'pending', waitingFor: `Gateway ${id} to be Programmed` };
  return { state: 'accepted' };
}

/** The route's verdict, then its parent Gateways' once it is accepted. */
async function verdictOf(cluster: Cluster, route: RouteWithStatus): Promise<RouteVerdict> {
  const own = routeVerdict(route);
  if (own.state !== 'accepted') return own;
  for (const g of parentGateways(route)) {
    const id = `${g.namespace}/${g.name}`;
    const gateway = await cluster.get<GatewayWithStatus>(
      `/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(g.namespace)}/gateways/${encodeURIComponent(g.name)}`,
    );
    const verdict = gatewayVerdict(id, gateway);
    if (verdict.state !== 'accepted') return verdict;
  }
  return own;
}

/**
 * Waits (at most timeoutMs) until every HTTPRoute of the set is accepted by its Gateways; throws with the
 * controller's reason for a refusal, or with what it still waits for.
 */
export async function waitForRoutes(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  options: { timeoutMs: number; intervalMs?: number; log: (line: string) => void },
): Promise<void> {
  for (const object of objects.filter((o) => o.kind === 'HTTPRoute')) {
    const path = `/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/httproutes/${encodeURIComponent(object.metadata?.name ?? '')}`;
    let last: RouteVerdict = { state: 'pending', waitingFor: 'its status' };
    let route: RouteWithStatus | undefined;
    await poll(
      async () => {
        route = await cluster.request<RouteWithStatus>('GET', path);
        last = await verdictOf(cluster, route);
        if (last.state === 'refused') throw new Error(last.reason);
        return last.state === 'accepted' ? true : undefined;
      },
      { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs ?? 500 },
    );
    if (last.state === 'pending') {
      const gateways = route ? parentGateways(route).map((g) => `${g.namespace}/${g.name}`) : [];
      throw new Error(
        `HTTPRoute/${object.metadata?.name} was not accepted within ${Math.round(options.timeoutMs / 1000)} s: waiting for ${last.waitingFor}. ` +
          `No controller wrote its status: check that Gateway ${gateways.join(', ')} exists and that its class's controller runs (on AKS: az aks approuting gateway istio enable --resource-group <group> --name <cluster>).`,
      );
    }
    options.log(
      `HTTPRoute/${object.metadata?.name}: accepted by Gateway ${
        route
          ? parentGateways(route)
              .map((g) => `${g.namespace}/${g.name}`)
              .join(', ')
          : ''
      } (Programmed)`,
    );
  }
}
