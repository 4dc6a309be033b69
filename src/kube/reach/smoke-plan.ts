import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { smokeCheckAnnotation, smokePathAnnotation } from '../../names.js';

// Which smoke check a Service gets (pure): a GET through the API server's service proxy on its HTTP port, the
// ready endpoints only (a port that speaks another protocol), or none. The Service's annotations override the
// inputs smoke-check and smoke-path.
//
// A port speaks HTTP unless it says otherwise, in the two ways Kubernetes and the meshes read:
// - `appProtocol` (Kubernetes ServicePort: an IANA service name, or kubernetes.io/h2c, kubernetes.io/ws,
//   kubernetes.io/wss, or a domain-prefixed name): only `http` and `https` (any case) are HTTP/1.1 here. The
//   service proxy sends HTTP/1.1, which a server of kubernetes.io/h2c (HTTP/2 prior knowledge, gRPC's
//   usual transport) refuses, and a WebSocket endpoint (kubernetes.io/ws, wss) answers a plain GET with
//   400/426: those get the endpoints check, as do grpc, redis, mysql, or mycompany.com/x.
// - the port name, by Istio's explicit protocol selection convention `<protocol>[-<suffix>]`
//   (istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection): a name whose protocol
//   part is one of `nonHttpNames` (tcp, tls, grpc, grpc-web, http2, mongo, mysql, redis, and the common
//   others) speaks that protocol. Any other name (http, web, api, metrics, none) is taken as HTTP.
// - `protocol: UDP` or `SCTP`: the service proxy dials TCP only.

export type SmokePlan =
  | {
      kind: 'http';
      /** the path to GET */
      path: string;
      /** the Service port (its number), as the proxy URL names it */
      port: number;
      /** the port's targetPort, for messages */
      targetPort: number | string;
      scheme: 'http' | 'https';
      /** where the path came from, for messages */
      pathFrom: 'input' | 'annotation';
    }
  | { kind: 'endpoints'; reason: string }
  | { kind: 'off'; reason: string };

export interface SmokeDefaults {
  /** input smoke-check */
  enabled: boolean;
  /** input smoke-path */
  path: string;
}

/** Port-name protocols (Istio's convention, plus common ones it leaves to TCP) that are not HTTP/1.1. */
const nonHttpNames: ReadonlySet<string> = new Set([
  'tcp',
  'tls',
  'udp',
  'sctp',
  'grpc',
  'http2',
  'h2c',
  'ws',
  'wss',
  'mongo',
  'mongodb',
  'mysql',
  'postgres',
  'postgresql',
  'redis',
  'memcache',
  'memcached',
  'amqp',
  'amqps',
  'kafka',
  'mqtt',
  'nats',
  'zookeeper',
  'cassandra',
  'dns',
  'smtp',
  'ldap',
]);
const httpAppProtocols: ReadonlySet<string> = new Set(['http', 'https']);

/** Why a port does not speak HTTP/1.1, or undefined when it does (as far as the Service says). */
export function nonHttpReason(port: V1ServicePort): string | undefined {
  const label = `port ${port.name ? `'${port.name}' (${port.port})` : port.port}`;
  const transport = (port.protocol ?? 'TCP').toUpperCase();
  if (transport !== 'TCP') return `${label} is ${transport}`;
  const appProtocol = port.appProtocol?.trim();
  if (appProtocol) {
    return httpAppProtocols.has(appProtocol.toLowerCase())
      ? undefined
      : `${label} has appProtocol '${appProtocol}'`;
  }
  const named = port.name?.toLowerCase().split('-')[0] ?? '';
  return nonHttpNames.has(named) ? `${label} is named for ${named}` : undefined;
}

const isHttps = (port: V1ServicePort) =>
  port.appProtocol?.toLowerCase() === 'https' || /^https(-|$)/i.test(port.name ?? '');

/** Problems with the smoke annotations of a Service (empty when none), each naming the annotation and the fix. */
export function smokeAnnotationProblems(annotations: Record<string, string> | undefined): string[] {
  const problems: string[] = [];
  const check = annotations?.[smokeCheckAnnotation];
  if (check !== undefined && check !== 'true' && check !== 'false')
    problems.push(
      `metadata.annotations['${smokeCheckAnnotation}'] is ${JSON.stringify(check)}; it takes "false" (no smoke check for this Service) or "true" (checked even with input smoke-check false)`,
    );
  const path = annotations?.[smokePathAnnotation];
  if (path !== undefined && !/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(path))
    problems.push(
      `metadata.annotations['${smokePathAnnotation}'] is ${JSON.stringify(path)}, not a URL path: start it with / and use no spaces, e.g. /healthz`,
    );
  return problems;
}

/**
 * The smoke check of one Service of the built image. In order: annotation smoke-check "false" → off; no
 * selector (ExternalName, endpoints of its own) or no port → off; input smoke-check false without annotation
 * smoke-check "true" → off; annotation smoke-path → GET that path (the Service says it serves HTTP there);
 * no port speaks HTTP → ready endpoints only; else GET input smoke-path. The HTTP port is the one named
 * http (or https), else the first that speaks HTTP (with an annotation path and none, the first port).
 * Throws on an annotation with a bad value, naming it.
 */
export function smokePlan(service: V1Service, defaults: SmokeDefaults): SmokePlan {
  const annotations = service.metadata?.annotations;
  const problems = smokeAnnotationProblems(annotations);
  if (problems.length > 0)
    throw new Error(`Service/${service.metadata?.name ?? '?'}: ${problems.join('; ')}`);
  const check = annotations?.[smokeCheckAnnotation];
  const annotatedPath = annotations?.[smokePathAnnotation];
  if (check === 'false') return { kind: 'off', reason: `annotation ${smokeCheckAnnotation} is "false"` };
  const spec = service.spec;
  if (spec?.type === 'ExternalName') return { kind: 'off', reason: 'it is an ExternalName Service' };
  if (Object.keys(spec?.selector ?? {}).length === 0)
    return { kind: 'off', reason: 'it has no selector (its endpoints are not pods it selects)' };
  const ports = spec?.ports ?? [];
  const first = ports[0];
  if (!first) return { kind: 'off', reason: 'it has no port' };
  if (!defaults.enabled && check !== 'true')
    return {
      kind: 'off',
      reason: `input smoke-check is false (annotation ${smokeCheckAnnotation}: "true" checks it)`,
    };
  const http = ports.filter((p) => nonHttpReason(p) === undefined);
  const port = http.find((p) => p.name === 'http' || p.name === 'https') ?? http[0];
  if (!port && annotatedPath === undefined)
    return {
      kind: 'endpoints',
      reason: `no port speaks HTTP: ${ports.map((p) => nonHttpReason(p)).join(', ')}`,
    };
  const chosen = port ?? first;
  return {
    kind: 'http',
    path: annotatedPath ?? defaults.path,
    port: chosen.port,
    targetPort: chosen.targetPort ?? chosen.port,
    scheme: isHttps(chosen) ? 'https' : 'http',
    pathFrom: annotatedPath === undefined ? 'input' : 'annotation',
  };
}
