import type { KubernetesObject, V1Node, V1Service } from '@kubernetes/client-node';
import { type Cluster, errorText } from './client.js';

// After a rollout: GET / of the Service through the API server's service proxy (an endpoint the Service
// itself picks, as the ingress would), and the revision that answers must be the commit just deployed. The
// same call works on AKS (the API server reaches the pods through its konnectivity tunnel) and on the local
// target's real node. Pods that only simulate running (kwok nodes) serve nothing: a Service whose ready
// endpoints are all on such nodes is skipped with a line saying so.

export interface SmokeOptions {
  /** answers in a row that must name the expected revision (the proxy picks an endpoint per request) */
  confirmations?: number;
  /** requests at most, one per intervalMs; the check fails when they are used up */
  attempts?: number;
  intervalMs?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SmokeResult {
  service: string;
  outcome: 'passed' | 'skipped';
  /** passed: the revision that answered; skipped: why */
  detail: string;
  requests: number;
}

interface EndpointSliceList {
  items: { endpoints?: { conditions?: { ready?: boolean }; nodeName?: string }[] }[];
}

/** The container runtime of kwok's simulated nodes (their pods run no process). */
const simulatedRuntime = /^kwok:\/\//;

/**
 * Checks that GET / through Service `serviceName` port `port` answers with JSON whose `revision` is
 * expectedRevision, `confirmations` times in a row, within `attempts` requests; throws with what answered
 * otherwise. Skipped (resolved, outcome 'skipped') when every ready endpoint is on a simulated node.
 */
export async function smokeCheck(
  cluster: Cluster,
  namespace: string,
  serviceName: string,
  port: number | string,
  expectedRevision: string,
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  const { confirmations = 3, attempts = 20, intervalMs = 1000, timeoutMs = 10_000 } = options;
  const what = `Service/${serviceName} port ${port} in namespace '${namespace}'`;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(serviceName)}:${encodeURIComponent(String(port))}/proxy/`;
  const seen: Record<string, number> = {};
  let last = '';
  let inARow = 0;
  for (let request = 1; request <= attempts; request++) {
    const nodes = await endpointNodes(cluster, namespace, serviceName);
    if (nodes.ready > 0 && nodes.simulated === nodes.ready) {
      const detail = `its ${nodes.ready} ready endpoint${nodes.ready === 1 ? ' is' : 's are'} on simulated (kwok) nodes, where nothing listens`;
      options.log?.(`smoke check of ${what} skipped: ${detail}`);
      return { service: serviceName, outcome: 'skipped', detail, requests: request - 1 };
    }
    if (nodes.ready === 0) {
      last = 'no ready endpoint';
    } else {
      try {
        // tried once: the proxy's 503 (no pod answered) is an answer here, and this loop is the retry
        const body = await cluster.request<string>('GET', path, { text: true, timeoutMs, outageMs: 0 });
        const revision = revisionOf(body);
        seen[revision ?? '(none)'] = (seen[revision ?? '(none)'] ?? 0) + 1;
        if (revision === expectedRevision) {
          inARow++;
          if (inARow >= confirmations) {
            options.log?.(
              `smoke check of ${what}: GET / answered revision ${expectedRevision} (${request} request${request === 1 ? '' : 's'})`,
            );
            return { service: serviceName, outcome: 'passed', detail: expectedRevision, requests: request };
          }
        } else {
          inARow = 0;
          last =
            revision === undefined
              ? `an answer with no "revision": ${body.slice(0, 200)}`
              : `revision ${revision}`;
        }
      } catch (error) {
        inARow = 0;
        last = errorText(error);
      }
    }
    if (request < attempts) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const answers = Object.entries(seen)
    .map(([revision, count]) => `${revision} x${count}`)
    .join(', ');
  throw new Error(
    `smoke check failed: GET / through ${what} did not answer with the deployed revision ${expectedRevision} ` +
      `${confirmations} times in a row in ${attempts} requests (answers: ${answers || 'none'}; last: ${last}). ` +
      'The pods serving are not the commit just deployed: check that the image is built with --build-arg REVISION=<commit> and that the Service selects only the new pods.',
  );
}

/**
 * The smoke check of every Service in the applied set (port named http, else its first port); Services
 * without a selector (ExternalName, hand-made endpoints) are not the app's and are left out.
 */
export async function smokeCheckServices(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  expectedRevision: string,
  options: SmokeOptions = {},
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const o of objects) {
    if (o.kind !== 'Service') continue;
    const service = o as V1Service;
    const ports = service.spec?.ports ?? [];
    const port = ports.find((p) => p.name === 'http') ?? ports[0];
    if (!service.spec?.selector || service.spec.type === 'ExternalName' || !port) continue;
    results.push(
      await smokeCheck(
        cluster,
        namespace,
        service.metadata?.name ?? '',
        port.port,
        expectedRevision,
        options,
      ),
    );
  }
  return results;
}

function revisionOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { revision?: unknown };
    return typeof parsed.revision === 'string' ? parsed.revision : undefined;
  } catch {
    return undefined;
  }
}

async function endpointNodes(
  cluster: Cluster,
  namespace: string,
  service: string,
): Promise<{ ready: number; simulated: number }> {
  const slices = await cluster.request<EndpointSliceList>(
    'GET',
    `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
    { query: { labelSelector: `kubernetes.io/service-name=${service}` } },
  );
  const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false);
  let simulated = 0;
  const runtimes = new Map<string, string>();
  for (const e of ready) {
    if (!e.nodeName) continue;
    if (!runtimes.has(e.nodeName)) {
      const node = await cluster
        .request<V1Node>('GET', `/api/v1/nodes/${encodeURIComponent(e.nodeName)}`)
        .catch(() => undefined);
      runtimes.set(e.nodeName, node?.status?.nodeInfo?.containerRuntimeVersion ?? '');
    }
    if (simulatedRuntime.test(runtimes.get(e.nodeName) ?? '')) simulated++;
  }
  return { ready: ready.length, simulated };
}
