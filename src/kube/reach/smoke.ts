import type { KubernetesObject, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import { retry } from '../../util/retry.js';
import { type Cluster, KubeApiError } from '../client/client.js';
import { selectorString } from '../manifests/selector.js';
import { serviceEndpoints } from './reach.js';
import { adviceFor, type CheckContext, labelOf, type Seen, seenOf } from './smoke-cause.js';
import { smokePlan } from './smoke-plan.js';

// After a rollout: GET <smoke-path> of each Service whose pods run the image just built, through the API
// server's service proxy (an endpoint the Service itself picks, as the ingress would). An answer that names
// a revision (JSON field "revision", as the archetype's GET / does) must name the commit just deployed; any
// other answer must be 2xx. Which Service gets which check (a GET, ready endpoints only for a port that
// speaks another protocol, none) is smoke-plan.ts's; what a failure saw and its fix, smoke-cause.ts's.
// Services of other images (a database, a cache) get the endpoints check only. The same call works on AKS
// (the API server reaches the pods through its konnectivity tunnel) and on the local target's real node.

export interface SmokeOptions {
  /** the path to GET (input 'smoke-path'), default / */
  path?: string;
  /** where the path came from (input smoke-path, or the Service's annotation), for the failure's fix */
  pathFrom?: 'input' | 'annotation';
  /** the Service's selector and the port's targetPort, for the failure's fix */
  selector?: Record<string, string>;
  targetPort?: number | string;
  /** https for a port that speaks it (the proxy URL's scheme), default http */
  scheme?: 'http' | 'https';
  /** input smoke-check (smokeCheckServices): false checks only Services annotated smoke-check "true" */
  enabled?: boolean;
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
  /** how long the endpoints check of a non-HTTP Service waits for a ready endpoint, default 20 s */
  endpointsWaitMs?: number;
  log?: (line: string) => void;
}

export interface SmokeResult {
  service: string;
  /** passed: GET answered; endpoints: a Service that speaks no HTTP has ready endpoints */
  outcome: 'passed' | 'endpoints';
  /** the revision that answered, 2xx, or the number of ready endpoints */
  detail: string;
  requests: number;
  /** the path a passed GET asked for (the front-door check asks it again) */
  path?: string;
}

/**
 * Checks that GET <path> through Service `serviceName` port `port` answers with JSON whose `revision` is
 * expectedRevision (or, naming none, 2xx), `confirmations` times in a row, within `attempts` requests;
 * throws with what answered and the fix for the last answer otherwise.
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
  const scheme = options.scheme === 'https' ? 'https:' : '';
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${scheme}${encodeURIComponent(serviceName)}:${encodeURIComponent(String(port))}/proxy${target}`;
  const seen: Record<string, number> = {};
  const tally = (label: string) => {
    seen[label] = (seen[label] ?? 0) + 1;
  };
  let last: Seen | undefined;
  let lastText = '';
  let inARow = 0;
  try {
    return await retry(
      async (request) => {
        try {
          // tried once: the proxy's 503 (no pod answered) is an answer here, and this loop is the retry
          const body = await cluster.request<string>('GET', path, { text: true, timeoutMs, outageMs: 0 });
          const revision = revisionOf(body);
          tally(revision ?? '2xx without a revision');
          // an answer that names no revision cannot be told apart from an old pod's: any 2xx counts
          if (revision !== expectedRevision && revision !== undefined) {
            inARow = 0;
            last = { kind: 'revision', revision };
            lastText = `revision ${revision}`;
          } else if (++inARow >= confirmations) {
            options.log?.(
              `smoke check of ${what}: GET ${target} answered ${revision ? `revision ${revision}` : '2xx (no revision in the answer)'} (${request} request${request === 1 ? '' : 's'})`,
            );
            return {
              service: serviceName,
              outcome: 'passed',
              detail: revision ?? '2xx',
              requests: request,
              path: target,
            };
          }
        } catch (error) {
          inARow = 0;
          last =
            error instanceof KubeApiError
              ? seenOf({ status: error.status, reason: error.reason, message: error.serverMessage })
              : seenOf({ message: errorText(error) });
          tally(labelOf(last));
          lastText = errorText(error);
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
    .map(([label, count]) => `${label} x${count}`)
    .join(', ');
  const context: CheckContext = {
    service: serviceName,
    namespace,
    path: target,
    pathFrom: options.pathFrom ?? 'input',
    port,
    ...(options.targetPort !== undefined ? { targetPort: options.targetPort } : {}),
    ...(options.selector ? { selector: options.selector } : {}),
    expectedRevision,
  };
  throw new Error(
    `smoke check failed: GET ${target} through ${what} did not answer with the deployed revision ${expectedRevision} (or, naming none, 2xx) ` +
      `${confirmations} times in a row in ${attempts} requests (answers: ${answers || 'none'}; last: ${lastText}). ` +
      (last ? adviceFor(last, context) : ''),
  );
}

const notYet = Symbol('not confirmed yet');

/**
 * The check of a Service that speaks no HTTP: at least one ready endpoint (waiting up to endpointsWaitMs),
 * else an error naming the selector that matches no ready pod.
 */
export async function smokeCheckEndpoints(
  cluster: Cluster,
  namespace: string,
  service: V1Service,
  reason: string,
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  const name = service.metadata?.name ?? '';
  const e = await serviceEndpoints(cluster, namespace, name, options.endpointsWaitMs ?? 20_000);
  if (e.ready === 0) {
    const selector = selectorString({ matchLabels: service.spec?.selector });
    throw new Error(
      `smoke check failed: Service/${name} in namespace '${namespace}' (endpoints only: ${reason}) has no ready endpoint${e.notReady ? ` (${e.notReady} not ready)` : ''}. ` +
        `Its selector ${selector} matches no ready pod: check it against the pod template's labels and the pods' readiness.`,
    );
  }
  options.log?.(
    `smoke check of Service/${name}: endpoints only (${reason}): ${e.ready} ready endpoint${e.ready === 1 ? '' : 's'}`,
  );
  return { service: name, outcome: 'endpoints', detail: `${e.ready} ready`, requests: 0 };
}

/**
 * The smoke check of each Service in the set whose selector picks pods that run `image` (the one just
 * built), as smokePlan says: a GET on its HTTP port, its ready endpoints, or none (each said in a line).
 * Other Services (another image: a database, a cache) are left to the endpoints report, with a line saying so.
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
    const selector = service.spec?.selector;
    const none =
      service.spec?.type === 'ExternalName'
        ? 'it is an ExternalName Service'
        : !selector || Object.keys(selector).length === 0
          ? 'it has no selector (its endpoints are not pods it selects)'
          : !service.spec?.ports?.length
            ? 'it has no port'
            : '';
    if (!selector || none) {
      options.log?.(`smoke check of Service/${name}: not run, ${none}`);
      continue;
    }
    const runsImage = templates.some((t) => selects(selector, t.labels) && t.images.includes(image));
    if (!runsImage) {
      options.log?.(
        `smoke check of Service/${name}: not run, its pods do not run the image just built (endpoints only)`,
      );
      continue;
    }
    const plan = smokePlan(service, { enabled: options.enabled ?? true, path: options.path ?? '/' });
    if (plan.kind === 'off') options.log?.(`smoke check of Service/${name}: off, ${plan.reason}`);
    else if (plan.kind === 'endpoints')
      results.push(await smokeCheckEndpoints(cluster, namespace, service, plan.reason, options));
    else
      results.push(
        await smokeCheck(cluster, namespace, name, plan.port, expectedRevision, {
          ...options,
          path: plan.path,
          pathFrom: plan.pathFrom,
          scheme: plan.scheme,
          selector,
          targetPort: plan.targetPort,
        }),
      );
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

/** The JSON field "revision" of an answer, as the archetype's GET / gives it. */
export function revisionOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { revision?: unknown };
    return typeof parsed.revision === 'string' ? parsed.revision : undefined;
  } catch {
    return undefined;
  }
}
