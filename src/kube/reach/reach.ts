import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { managedBy, managedByLabel } from '../../names.js';
import { errorText } from '../../util/errors.js';
import { poll } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';
import { selectorString } from '../manifests/selector.js';
import { type GatewayObject, parentGateways } from './front-door-route.js';
import { waitForRoutes } from './route-status.js';

// How the deployed app is reached: ready endpoints behind each Service, the Ingress's address.

export interface ServiceEndpoints {
  service: string;
  ready: number;
  notReady: number;
}

interface EndpointSliceList {
  items: { endpoints?: { conditions?: { ready?: boolean } }[] }[];
}

/**
 * Endpoints behind a Service. With `waitMs`, polls (bounded) until one is ready, or with the Service's
 * `selector`, until every Ready pod it selects is: the EndpointSlice controller writes them a moment after
 * the pods turn Ready (longer on a busy control plane), so a rollout that just finished may see fewer.
 */
export async function serviceEndpoints(
  cluster: Cluster,
  namespace: string,
  service: string,
  waitMs = 0,
  intervalMs = 500,
  selector?: Record<string, string>,
): Promise<ServiceEndpoints> {
  let last: ServiceEndpoints | undefined;
  const ready = await poll(
    async () => {
      const [endpoints, pods] = await Promise.all([
        readEndpoints(cluster, namespace, service),
        selector && waitMs > 0 ? readyPods(cluster, namespace, selector) : 1,
      ]);
      last = endpoints;
      return last.ready > 0 && last.ready >= pods ? last : undefined;
    },
    { timeoutMs: waitMs, intervalMs },
  );
  // poll reads at least once: without a ready endpoint, the last reading says how many are not ready
  return ready ?? (last as ServiceEndpoints);
}

/** How many pods the selector matches that are Ready (and not being deleted). */
async function readyPods(
  cluster: Cluster,
  namespace: string,
  selector: Record<string, string>,
): Promise<number> {
  const labelSelector = selectorString({ matchLabels: selector });
  const pods = await cluster.request<{ items: V1Pod[] }>(
    'GET',
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
    { query: { labelSelector } },
  );
  return pods.items.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

async function readEndpoints(
  cluster: Cluster,
  namespace: string,
  service: string,
): Promise<ServiceEndpoints> {
  const slices = await cluster.request<EndpointSliceList>(
    'GET',
    `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
    { query: { labelSelector: `kubernetes.io/service-name=${service}` } },
  );
  const endpoints = slices.items.flatMap((s) => s.endpoints ?? []);
  const ready = endpoints.filter((e) => e.conditions?.ready !== false).length;
  return { service, ready, notReady: endpoints.length - ready };
}

interface IngressStatus {
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** The Ingress's load balancer address, or '' while it has none. */
export async function ingressAddress(cluster: Cluster, namespace: string, name: string): Promise<string> {
  const ingress = await cluster.request<IngressStatus>(
    'GET',
    `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/ingresses/${encodeURIComponent(name)}`,
  );
  const first = ingress.status?.loadBalancer?.ingress?.find((i) => i.ip || i.hostname);
  return first?.ip ?? first?.hostname ?? '';
}

/** Waits (bounded) for the Ingress to get an address from its controller. */
export async function waitForIngressAddress(
  cluster: Cluster,
  namespace: string,
  name: string,
  timeoutMs: number,
  intervalMs = 2000,
): Promise<string> {
  const address = await poll(async () => (await ingressAddress(cluster, namespace, name)) || undefined, {
    timeoutMs,
    intervalMs,
  });
  if (address) return address;
  throw new Error(
    `Ingress/${name} in namespace '${namespace}' got no address within ${Math.round(timeoutMs / 1000)} s: is its ingress controller running (for webapprouting.kubernetes.azure.com, the AKS application routing add-on)? Input 'wait-for-ingress: false' does not wait`,
  );
}

type IngressSpec = { spec?: { rules?: { host?: string }[]; tls?: { hosts?: string[] }[] } };

/** The URL an Ingress serves: its first rule's host, https where its TLS section covers that host. */
export function urlOfIngress(ingress: unknown): string {
  const spec = (ingress as IngressSpec | undefined)?.spec;
  const host = spec?.rules?.find((r) => r.host)?.host;
  if (!host) return '';
  const tls = spec?.tls?.some((t) => t.hosts?.includes(host));
  return `${tls ? 'https' : 'http'}://${host}/`;
}

/** The URL an HTTPRoute serves: its first hostname that is not a wildcard (the listener's scheme is unknown: http). */
export function urlOfRoute(route: unknown): string {
  const hosts = (route as { spec?: { hostnames?: string[] } } | undefined)?.spec?.hostnames ?? [];
  const host = hosts.find((h) => !h.startsWith('*.'));
  return host ? `http://${host}/` : '';
}

/** The URL of the set: its Ingress's, else its HTTPRoute's ('' when neither has a host). */
export function urlOfSet(objects: KubernetesObject[]): string {
  return (
    urlOfIngress(objects.find((o) => o.kind === 'Ingress')) ||
    urlOfRoute(objects.find((o) => o.kind === 'HTTPRoute'))
  );
}

/** The URL of the first Ingress the action manages in the namespace ('' when none has a host). */
export async function ingressUrl(cluster: Cluster, namespace: string): Promise<string> {
  const list = await cluster.request<{ items: IngressSpec[] }>(
    'GET',
    `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
    { query: { labelSelector: `${managedByLabel}=${managedBy}` } },
  );
  return list.items.map(urlOfIngress).find((url) => url) ?? '';
}

// the EndpointSlice controller's lag behind Ready pods: seconds at most on a busy control plane
const ENDPOINTS_WAIT_MS = 20_000;

export interface Reach {
  endpoints: ServiceEndpoints[];
  /** the (last) Ingress's load balancer address, '' while it has none */
  ingressAddress: string;
}

/**
 * Each HTTPRoute accepted by its Gateways (route-status.ts), ready endpoints of each Service of the set and
 * its Ingress's address: that the rollout is reachable, not only done. Each is asked at once and reported in the set's order; a Service with nothing ready behind it
 * is a warning. `waitForIngressMs` waits (bounded) for the address, else it is read once.
 */
export async function reportReach(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  options: {
    waitForIngressMs?: number;
    /** how long an HTTPRoute may take to be accepted by its Gateways, default 60 s */
    routeTimeoutMs?: number;
    log: { info(line: string): void; warning(line: string): void };
  },
): Promise<Reach> {
  const reach: Reach = { endpoints: [], ingressAddress: '' };
  const { log } = options;
  // a route its Gateway refuses serves nothing: the deploy fails with the controller's reason
  await waitForRoutes(cluster, namespace, objects, {
    timeoutMs: options.routeTimeoutMs ?? 60_000,
    log: (line) => log.info(line),
  });
  const reports = await Promise.all(
    objects.map(async (object): Promise<(() => void) | undefined> => {
      const name = object.metadata?.name ?? '';
      if (object.kind === 'Service') {
        const spec = (object as { spec?: { selector?: Record<string, string>; type?: string } }).spec;
        const selects = Object.keys(spec?.selector ?? {}).length > 0 && spec?.type !== 'ExternalName';
        const e = selects
          ? await serviceEndpoints(cluster, namespace, name, ENDPOINTS_WAIT_MS, 500, spec?.selector)
          : await serviceEndpoints(cluster, namespace, name);
        return () => {
          reach.endpoints.push(e);
          const line = `Service/${name}: ${e.ready} ready endpoint${e.ready === 1 ? '' : 's'}${e.notReady ? `, ${e.notReady} not ready` : ''}`;
          if (e.ready === 0) log.warning(`${line}: nothing serves behind it`);
          else log.info(line);
        };
      }
      if (object.kind === 'Ingress') {
        const address =
          options.waitForIngressMs !== undefined
            ? await waitForIngressAddress(cluster, namespace, name, options.waitForIngressMs)
            : await ingressAddress(cluster, namespace, name);
        return () => {
          reach.ingressAddress = address;
          log.info(
            `Ingress/${name}: ${address ? `address ${address}` : 'no address yet (its controller assigns one)'}`,
          );
        };
      }
      if (object.kind === 'HTTPRoute') return await routeReach(cluster, object, namespace, log);
      return undefined;
    }),
  );
  for (const report of reports) report?.();
  return reach;
}

/** The URL of an accepted route and the address of each parent Gateway, for the log. */
async function routeReach(
  cluster: Cluster,
  route: KubernetesObject,
  namespace: string,
  log: { info(line: string): void },
): Promise<() => void> {
  const parents = parentGateways({ ...route, metadata: { ...route.metadata, namespace } });
  const addresses = await Promise.all(
    parents.map(async (g) => {
      try {
        const gateway = await cluster.get<GatewayObject>(
          `/apis/gateway.networking.k8s.io/v1/namespaces/${g.namespace}/gateways/${g.name}`,
        );
        const address = gateway?.status?.addresses?.map((a) => a.value).join(', ');
        return `Gateway ${g.namespace}/${g.name} ${address ? `at ${address}` : gateway ? 'with no address yet' : 'not found'}`;
      } catch (error) {
        // a line of the report: the deploy does not depend on it
        return `Gateway ${g.namespace}/${g.name} (could not be read: ${errorText(error)})`;
      }
    }),
  );
  const url = urlOfRoute(route);
  return () =>
    log.info(`HTTPRoute/${route.metadata?.name}: ${url || 'no hostname'} through ${addresses.join('; ')}`);
}
