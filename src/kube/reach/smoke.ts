import type { KubernetesObject, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import { retry } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';

// After a rollout: GET <smoke-path> of each Service whose pods run the image just built, through the API
// server's service proxy (an endpoint the Service itself picks, as the ingress would). An answer that names
// a revision (JSON field "revision", as the archetype's GET / does) must name the commit just deployed; any
// other answer must be 2xx. Services of other images (a database, a cache) get the endpoints check only. The
// same call works on AKS (the API server reaches the pods through its konnectivity tunnel) and on the local
// target's real node.

export interface SmokeOptions {
  /** the path to GET (input 'smoke-path'), default / */
  path?: string;
  /** answers in a row that must name the expected revision (the proxy picks an endpoint per request) */
  confirmations?: number;
  /** requests at most; the check fails when they are used up */
  attempts?: number;
  /** the pause after an answer that does not count (a wrong revision, an error), default 1 s */
  intervalMs?: number;
  /** the pause between confirmations, default 200 ms: the proxy picks an endpoint per request, so what
   * catches an old pod is the number of answers, not the time between them */
  confirmIntervalMs?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SmokeResult {
  service: string;
  outcome: 'passed';
  /** the revision that answered, or 2xx */
  detail: string;
  requests: number;
}

/**
 * Checks that GET / through Service `serviceName` port `port` answers with JSON whose `revision` is
 * expectedRevision, `confirmations` times in a row, within `attempts` requests; throws with what answered
 * otherwise.
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
  const confirmIntervalMs = options.confirmIntervalMs ?? Math.min(200, intervalMs);
  const what = `Service/${serviceName} port ${port} in namespace '${namespace}'`;
  const target = options.path ?? '/';
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(serviceName)}:${encodeURIComponent(String(port))}/proxy${target}`;
  const seen: Record<string, number> = {};
  let last = '';
  let inARow = 0;
  try {
    return await retry(
      async (request) => {
        try {
          // tried once: the proxy's 503 (no pod answered) is an answer here, and this loop is the retry
          const body = await cluster.request<string>('GET', path, { text: true, timeoutMs, outageMs: 0 });
          const revision = revisionOf(body);
          seen[revision ?? '2xx without a revision'] = (seen[revision ?? '2xx without a revision'] ?? 0) + 1;
          // an answer that names no revision cannot be told apart from an old pod's: any 2xx counts
          if (revision !== expectedRevision && revision !== undefined) {
            inARow = 0;
            last = `revision ${revision}`;
          } else if (++inARow >= confirmations) {
            options.log?.(
              `smoke check of ${what}: GET ${target} answered ${revision ? `revision ${revision}` : '2xx (no revision in the answer)'} (${request} request${request === 1 ? '' : 's'})`,
            );
            return { service: serviceName, outcome: 'passed', detail: revision ?? '2xx', requests: request };
          }
        } catch (error) {
          inARow = 0;
          last = errorText(error);
        }
        throw notYet;
      },
      {
        attempts,
        delayMs: () => (inARow > 0 ? confirmIntervalMs : intervalMs),
        retryable: (error) => error === notYet,
      },
    );
  } catch (error) {
    if (error !== notYet) throw error;
  }
  const answers = Object.entries(seen)
    .map(([revision, count]) => `${revision} x${count}`)
    .join(', ');
  throw new Error(
    `smoke check failed: GET ${target} through ${what} did not answer with the deployed revision ${expectedRevision} (or, naming none, 2xx) ` +
      `${confirmations} times in a row in ${attempts} requests (answers: ${answers || 'none'}; last: ${last}). ` +
      'The pods serving are not the commit just deployed: check that the image is built with --build-arg REVISION=<commit> and that the Service selects only the new pods.',
  );
}

const notYet = Symbol('not confirmed yet');

/**
 * The smoke check of each Service in the set whose selector picks pods that run `image` (the one just
 * built), on its port named http, else its first. Other Services (another image: a database, a cache;
 * ExternalName; no selector) are left to the endpoints check, with a line saying so.
 */
export async function smokeCheckServices(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  expectedRevision: string,
  image: string,
  options: SmokeOptions = {},
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  const templates = podTemplates(objects);
  for (const o of objects) {
    if (o.kind !== 'Service') continue;
    const service = o as V1Service;
    const name = service.metadata?.name ?? '';
    const ports = service.spec?.ports ?? [];
    const port = ports.find((p) => p.name === 'http') ?? ports[0];
    const selector = service.spec?.selector;
    if (!selector || service.spec?.type === 'ExternalName' || !port) continue;
    const runsImage = templates.some((t) => selects(selector, t.labels) && t.images.includes(image));
    if (!runsImage) {
      options.log?.(
        `smoke check of Service/${name}: not run, its pods do not run the image just built (endpoints only)`,
      );
      continue;
    }
    results.push(await smokeCheck(cluster, namespace, name, port.port, expectedRevision, options));
  }
  return results;
}

interface Template {
  labels: Record<string, string>;
  images: string[];
}

/** The pod templates of the workloads in the set (and bare pods), with their labels and images. */
function podTemplates(objects: KubernetesObject[]): Template[] {
  const out: Template[] = [];
  for (const o of objects) {
    const spec = (o as { spec?: Record<string, unknown> }).spec;
    const template =
      o.kind === 'Pod'
        ? { metadata: o.metadata, spec }
        : o.kind === 'CronJob'
          ? ((spec?.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template as
              | V1PodTemplateSpec
              | undefined)
          : (spec?.template as V1PodTemplateSpec | undefined);
    if (!template || typeof template !== 'object') continue;
    const t = template as V1PodTemplateSpec;
    out.push({
      labels: t.metadata?.labels ?? {},
      images: [...(t.spec?.containers ?? []), ...(t.spec?.initContainers ?? [])].map((c) => c.image ?? ''),
    });
  }
  return out;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function revisionOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { revision?: unknown };
    return typeof parsed.revision === 'string' ? parsed.revision : undefined;
  } catch {
    return undefined;
  }
}
