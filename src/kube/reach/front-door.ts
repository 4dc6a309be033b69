import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubernetesObject } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import { type GatewayObject, parentGateways, type RouteObject, routeDoorOf } from './front-door-route.js';
import { revisionOf } from './smoke.js';

// After the Service checks passed: the same GET through the front door, the ingress controller's address
// with the Ingress rule's host (or an HTTPRoute's Gateway address and hostname, front-door-route.ts), must
// reach the new revision too. The Service check proves the pods; this one proves the route: a host, path,
// backend port or class mistake fails here, before a user meets it.

export interface FrontDoor {
  /** Ingress/name, for messages */
  via: string;
  host: string;
  path: string;
  scheme: 'http' | 'https';
  /** the controller's address (Ingress status), and its port */
  address: string;
  port: number;
  service: string;
}

type Backend = { service?: { name?: string; port?: { number?: number; name?: string } } };
type IngressObject = KubernetesObject & {
  spec?: {
    ingressClassName?: string;
    defaultBackend?: Backend;
    rules?: { host?: string; http?: { paths?: { path?: string; pathType?: string; backend?: Backend }[] } }[];
    tls?: { hosts?: string[] }[];
  };
  status?: {
    loadBalancer?: {
      ingress?: { ip?: string; hostname?: string; ports?: { port?: number; protocol?: string }[] }[];
    };
  };
};

/** Does an Ingress path (pathType Exact, Prefix or ImplementationSpecific) route `path`? */
export function routes(pathType: string | undefined, rulePath: string | undefined, path: string): boolean {
  const p = rulePath || '/';
  const bare = path.split('?')[0] ?? path;
  if (pathType === 'Exact') return bare === p;
  const prefix = p.replace(/\/+$/, '');
  return prefix === '' || bare === prefix || bare.startsWith(`${prefix}/`);
}

/**
 * Where to GET `path` through an Ingress (read back from the cluster, with its status) so that it reaches one
 * of `services`: the first rule that routes the path to one of them, or why there is none.
 */
export function frontDoorOf(ingress: IngressObject, services: Set<string>, path: string): FrontDoor | string {
  const name = `Ingress/${ingress.metadata?.name ?? ''}`;
  const lb = ingress.status?.loadBalancer?.ingress?.find((i) => i.ip || i.hostname);
  const address = lb?.ip || lb?.hostname;
  if (!address) return `${name} has no address yet (its controller writes one)`;
  for (const rule of ingress.spec?.rules ?? []) {
    if (rule.host?.startsWith('*.')) continue; // no name to send
    const hit = rule.http?.paths?.find(
      (p) => routes(p.pathType, p.path, path) && services.has(p.backend?.service?.name ?? ''),
    );
    if (!hit) continue;
    const host = rule.host || address;
    const tls = ingress.spec?.tls?.some((t) => t.hosts?.includes(host)) ?? false;
    const listed = lb?.ports?.find((p) => (p.protocol ?? 'TCP') === 'TCP')?.port;
    return {
      via: name,
      host,
      path,
      scheme: tls ? 'https' : 'http',
      address,
      port: listed ?? (tls ? 443 : 80),
      service: hit.backend?.service?.name ?? '',
    };
  }
  return `${name} has no rule that routes ${path} to ${[...services].map((s) => `Service/${s}`).join(', ')}`;
}

export interface FrontDoorAnswer {
  status: number;
  body: string;
}

/** One GET to the controller's address with the rule's host (and SNI), bounded by timeoutMs. */
export function getThrough(
  door: FrontDoor,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<FrontDoorAnswer> {
  return new Promise((resolve, reject) => {
    const options = {
      host: door.address,
      port: door.port,
      path: door.path,
      method: 'GET',
      headers: { ...headers, host: door.host, accept: 'application/json' },
      timeout: timeoutMs,
      ...(door.scheme === 'https' ? { servername: door.host } : {}),
    };
    const req = (door.scheme === 'https' ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 65_536) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** What a failed front-door answer most likely means, and the fix. */
export function frontDoorAdvice(door: FrontDoor, status: number | undefined, className: string): string {
  const where = `${door.via} (host ${door.host}, path ${door.path}, Service/${door.service})`;
  if (status === 404 && door.via.startsWith('HTTPRoute'))
    return `The Gateway matched no rule: check ${where}: its hostnames against the listener's hostname, its path matches, and that its status shows Accepted by the Gateway.`;
  if (status === 404)
    return `The controller matched no rule: check ${where}: the host the rule names, its path and pathType, and that ingressClassName ${className || '(none)'} is the class its controller serves.`;
  if (status === 502 || status === 503 || status === 504)
    return `The controller matched the rule but reached no ready pod: check that ${where} names the Service's port (number or name) that leads to the container's port.`;
  if (status === undefined)
    return `Nothing answered at ${door.address}:${door.port}: the controller's address is not reachable from this runner (an internal load balancer?). Set input smoke-front-door: false to skip this check there.`;
  return `Check ${where}.`;
}

/**
 * The front-door check of each Ingress of the set that routes the smoke path to a Service that passed its
 * check: `confirmations` answers in a row naming `expectedRevision` (or 2xx naming none), within `attempts`.
 */
export async function smokeFrontDoors(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  passed: { service: string; path: string }[],
  expectedRevision: string,
  options: {
    attempts?: number;
    confirmations?: number;
    intervalMs?: number;
    timeoutMs?: number;
    log: (line: string) => void;
  },
): Promise<void> {
  const { attempts = 20, confirmations = 3, intervalMs = 1000, timeoutMs = 10_000, log } = options;
  const byPath = new Map<string, Set<string>>();
  for (const p of passed) byPath.set(p.path, (byPath.get(p.path) ?? new Set()).add(p.service));
  for (const object of objects) {
    if (object.kind !== 'Ingress' && object.kind !== 'HTTPRoute') continue;
    const { door, className } = await doorOf(cluster, namespace, object, byPath);
    if (typeof door === 'string') {
      log(`front door: not checked, ${door}`);
      continue;
    }
    await confirm(door, expectedRevision, { attempts, confirmations, intervalMs, timeoutMs }, className);
    log(
      `front door: GET ${door.scheme}://${door.host}${door.path} through ${door.via} at ${door.address}:${door.port} answered revision ${expectedRevision}`,
    );
  }
}

/** The object read back (with its status, and an HTTPRoute's parent Gateways), and its door. */
export async function doorOf(
  cluster: Cluster,
  namespace: string,
  object: KubernetesObject,
  byPath: Map<string, Set<string>>,
): Promise<{ door: FrontDoor | string; className: string }> {
  const name = encodeURIComponent(object.metadata?.name ?? '');
  const ns = encodeURIComponent(namespace);
  let find: (services: Set<string>, path: string) => FrontDoor | string;
  let className = '';
  if (object.kind === 'Ingress') {
    const ingress = await cluster.request<IngressObject>(
      'GET',
      `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}`,
    );
    className = ingress.spec?.ingressClassName ?? '';
    find = (services, path) => frontDoorOf(ingress, services, path);
  } else {
    const route = await cluster.request<RouteObject>(
      'GET',
      `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/${name}`,
    );
    const gateways = new Map<string, GatewayObject>();
    for (const g of parentGateways(route)) {
      try {
        const gateway = await cluster.get<GatewayObject>(
          `/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(g.namespace)}/gateways/${encodeURIComponent(g.name)}`,
        );
        if (gateway) gateways.set(`${g.namespace}/${g.name}`, gateway);
      } catch (error) {
        // a Gateway this identity may not read (rbac/ grants get on gateways): said, not fatal
        return { door: `Gateway ${g.namespace}/${g.name} could not be read: ${errorText(error)}`, className };
      }
    }
    find = (services, path) => routeDoorOf(route, gateways, services, path);
  }
  let door: FrontDoor | string =
    `${object.kind}/${object.metadata?.name} routes no Service whose smoke check passed`;
  for (const [path, services] of byPath) {
    door = find(services, path);
    if (typeof door !== 'string') break;
  }
  return { door, className };
}

async function confirm(
  door: FrontDoor,
  expected: string,
  o: { attempts: number; confirmations: number; intervalMs: number; timeoutMs: number },
  className: string,
): Promise<void> {
  let inARow = 0;
  let last = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    try {
      const answer = await getThrough(door, o.timeoutMs);
      lastStatus = answer.status;
      const revision = revisionOf(answer.body);
      const ok =
        answer.status >= 200 && answer.status < 300 && (revision === undefined || revision === expected);
      // the body is the app's words (a pull request's, in a preview): status and revision only
      last = `${answer.status}${revision ? ` revision ${revision}` : ''}`;
      if (ok && ++inARow >= o.confirmations) return;
      if (!ok) inARow = 0;
    } catch (error) {
      inARow = 0;
      lastStatus = undefined;
      last = errorText(error);
    }
    if (attempt < o.attempts) await new Promise((r) => setTimeout(r, inARow > 0 ? 200 : o.intervalMs));
  }
  throw new Error(
    `front door check failed: GET ${door.scheme}://${door.host}${door.path} through ${door.via} at ${door.address}:${door.port} did not answer revision ${expected} ${o.confirmations} times in a row in ${o.attempts} requests (last: ${last}); the Service's own check passed. ${frontDoorAdvice(door, lastStatus, className)}`,
  );
}
