import { sleep } from '../util/sleep.js';
import type { Cluster } from './client.js';

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
 * Endpoints behind a Service. With `waitMs`, polls (bounded) until one is ready: the EndpointSlice
 * controller writes them a moment after the pods turn Ready, so a rollout that just finished may see none.
 */
export async function serviceEndpoints(
  cluster: Cluster,
  namespace: string,
  service: string,
  waitMs = 0,
  intervalMs = 500,
): Promise<ServiceEndpoints> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = await readEndpoints(cluster, namespace, service);
    if (found.ready > 0 || Date.now() + intervalMs > deadline) return found;
    await sleep(intervalMs);
  }
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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const address = await ingressAddress(cluster, namespace, name);
    if (address) return address;
    if (Date.now() + intervalMs > deadline)
      throw new Error(
        `Ingress/${name} in namespace '${namespace}' got no address within ${Math.round(timeoutMs / 1000)} s: is its ingress controller running (for webapprouting.kubernetes.azure.com, the AKS application routing add-on)? Input 'wait-for-ingress: false' does not wait`,
      );
    await sleep(intervalMs);
  }
}
