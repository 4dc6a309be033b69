import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import type { Cluster } from '../client/client.js';
import { type Namespace, readNamespace } from '../client/namespace.js';
import type { Manifest } from '../manifests/load.js';
import { selects } from '../manifests/selector.js';
import { outsideBackends } from '../manifests/validate-route.js';
import type { Condition, ParentRef } from '../reach/front-door-route.js';
import { type Finding, finding } from './findings.js';

// An HTTPRoute does nothing until a Gateway accepts it. Before anything is applied: each parent Gateway
// exists, its GatewayClass exists and is Accepted, and it has a listener that matches the route's
// sectionName/port and hostnames and whose allowedRoutes admit an HTTPRoute from the route's namespace (the
// usual mistake: `from: Same`, the default, on a shared Gateway). Pure over the objects read.

const group = 'gateway.networking.k8s.io';

export interface Listener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  allowedRoutes?: {
    namespaces?: { from?: 'Same' | 'All' | 'Selector'; selector?: V1LabelSelector };
    kinds?: { group?: string; kind: string }[];
  };
}
export interface Gateway {
  metadata?: { name?: string; namespace?: string };
  spec?: { gatewayClassName?: string; listeners?: Listener[] };
  status?: { conditions?: Condition[]; addresses?: { value: string }[] };
}
export interface GatewayClass {
  metadata?: { name?: string };
  spec?: { controllerName?: string };
  status?: { conditions?: Condition[] };
}

/** The parentRefs of a route that name a Gateway, with their namespace resolved. */
export function gatewayRefs(
  route: KubernetesObject,
  namespace: string,
): (ParentRef & { namespace: string })[] {
  const refs = ((route as { spec?: { parentRefs?: ParentRef[] } }).spec?.parentRefs ?? []) as ParentRef[];
  return refs
    .filter((p) => (p.group ?? group) === group && (p.kind ?? 'Gateway') === 'Gateway')
    .map((p) => ({ ...p, namespace: p.namespace ?? route.metadata?.namespace ?? namespace }));
}

/** Whether a listener's hostname and a route's hostname meet (Gateway API rules: '*.' matches one or more labels). */
export function hostnamesIntersect(listener: string | undefined, route: string): boolean {
  if (!listener) return true;
  if (listener === route) return true;
  const wild = (h: string) => h.startsWith('*.');
  if (wild(listener) && !wild(route)) return route.endsWith(listener.slice(1));
  if (!wild(listener) && wild(route)) return listener.endsWith(route.slice(1));
  if (wild(listener) && wild(route))
    return listener.endsWith(route.slice(1)) || route.endsWith(listener.slice(1));
  return false;
}

/** Why a listener does not admit an HTTPRoute of `namespace`, or undefined when it does. */
function refusal(
  listener: Listener,
  gatewayNamespace: string,
  namespace: string,
  labels: Record<string, string> | undefined,
): string | undefined {
  const kinds = listener.allowedRoutes?.kinds;
  if (kinds && kinds.length > 0 && !kinds.some((k) => k.kind === 'HTTPRoute' && (k.group ?? group) === group))
    return `admits only ${kinds.map((k) => k.kind).join(', ')} (allowedRoutes.kinds); add {kind: HTTPRoute} to allowedRoutes.kinds`;
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return undefined;
  if (from === 'Same')
    return gatewayNamespace === namespace
      ? undefined
      : `admits routes only from its own namespace (allowedRoutes.namespaces.from: Same); set from: Selector with a label the namespace ${namespace} carries, or from: All`;
  const selector = listener.allowedRoutes?.namespaces?.selector;
  // labels unknown (the namespace could not be read): not concluded here; the route's status says after apply
  if (!labels || selects(selector, labels)) return undefined;
  return `admits routes only from namespaces matching ${JSON.stringify(selector ?? {})} (allowedRoutes.namespaces.from: Selector), and namespace ${namespace} has labels ${JSON.stringify(labels)}; label the namespace to match (e.g. in a Namespace manifest of the set), or change the selector`;
}

export interface GatewayReads {
  /** the Gateways read, by 'namespace/name'; absent: not found */
  gateways: Map<string, Gateway>;
  classes: GatewayClass[];
  /** the labels of the route's namespace (live, or as the set will create it); undefined: unknown */
  namespaceLabels: Record<string, string> | undefined;
}

/** Findings for every HTTPRoute's parent Gateways. */
export function checkGateways(routes: KubernetesObject[], namespace: string, reads: GatewayReads): Finding[] {
  const findings: Finding[] = [];
  for (const route of routes) {
    const what = `HTTPRoute/${route.metadata?.name}`;
    const ns = route.metadata?.namespace ?? namespace;
    const hosts = (route as { spec?: { hostnames?: string[] } }).spec?.hostnames ?? [];
    for (const ref of gatewayRefs(route, namespace)) {
      const id = `${ref.namespace}/${ref.name}`;
      const say = (message: string) => findings.push(finding('gateway', `${what}: ${message}`));
      const gateway = reads.gateways.get(id);
      if (!gateway) {
        say(
          `its parent Gateway ${id} does not exist; create it (on AKS with gatewayClassName approuting-istio, docs/gateway-api.md) or point parentRefs (or the input 'gateway') at one that does`,
        );
        continue;
      }
      const className = gateway.spec?.gatewayClassName ?? '';
      const gatewayClass = reads.classes.find((c) => c.metadata?.name === className);
      const names = reads.classes.map((c) => c.metadata?.name).join(', ') || 'none';
      if (!gatewayClass) {
        say(
          `Gateway ${id} has class '${className}', which is not a GatewayClass in the cluster (it has ${names})${className === 'approuting-istio' ? "; enable application routing's Gateway API mode: 'az aks approuting gateway istio enable --resource-group <group> --name <cluster>'" : '; install the controller that provides it'}`,
        );
        continue;
      }
      const accepted = gatewayClass.status?.conditions?.find((c) => c.type === 'Accepted');
      if (accepted?.status !== 'True')
        say(
          `GatewayClass ${className} of Gateway ${id} is not Accepted by its controller${accepted ? ` (${accepted.reason ?? ''}: ${accepted.message ?? ''})` : ' (no status: is its controller running?)'}; check the controller ${gatewayClass.spec?.controllerName ?? ''}`,
        );
      checkListeners(gateway, ref, { id, ns, hosts, labels: reads.namespaceLabels }, say);
    }
  }
  return findings;
}

/** The listener checks of one parentRef. */
function checkListeners(
  gateway: Gateway,
  ref: ParentRef & { namespace: string },
  route: { id: string; ns: string; hosts: string[]; labels: Record<string, string> | undefined },
  say: (message: string) => void,
): void {
  const all = gateway.spec?.listeners ?? [];
  const listed = all
    .map((l) => `${l.name} (${l.protocol} ${l.port}${l.hostname ? ` ${l.hostname}` : ''})`)
    .join(', ');
  const chosen = all.filter(
    (l) =>
      (ref.sectionName === undefined || l.name === ref.sectionName) &&
      (ref.port === undefined || l.port === ref.port),
  );
  const target = `${ref.sectionName ? ` named ${ref.sectionName}` : ''}${ref.port !== undefined ? ` on port ${ref.port}` : ''}`;
  if (chosen.length === 0) {
    say(
      `Gateway ${route.id} has no listener${target} (it has ${listed || 'none'}); fix parentRefs' sectionName/port`,
    );
    return;
  }
  const http = chosen.filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS');
  if (http.length === 0) {
    say(
      `Gateway ${route.id}'s listener${target} is not HTTP or HTTPS (${listed}); attach to an HTTP or HTTPS listener`,
    );
    return;
  }
  const hosted = http.filter(
    (l) => route.hosts.length === 0 || route.hosts.some((h) => hostnamesIntersect(l.hostname, h)),
  );
  if (hosted.length === 0) {
    say(
      `no listener of Gateway ${route.id}${target} matches the route's hostnames ${route.hosts.join(', ')} (listeners: ${listed}); set spec.hostnames (or the input 'host') to a name the listener's hostname covers, or add a listener for it`,
    );
    return;
  }
  const refusals = hosted.map((l) => ({ l, why: refusal(l, ref.namespace, route.ns, route.labels) }));
  if (refusals.every((r) => r.why))
    for (const { l, why } of refusals) say(`Gateway ${route.id} listener ${l.name} ${why}`);
}

/** The Gateways and classes the routes need, read; a Gateway not found is absent from the map. */
export async function readGateways(
  get: <T>(path: string) => Promise<T | undefined>,
  list: <T>(path: string) => Promise<T[]>,
  routes: KubernetesObject[],
  namespace: string,
): Promise<Omit<GatewayReads, 'namespaceLabels'>> {
  const ids = [
    ...new Set(routes.flatMap((r) => gatewayRefs(r, namespace).map((p) => `${p.namespace}/${p.name}`))),
  ];
  const gateways = new Map<string, Gateway>();
  const [classes] = await Promise.all([
    list<GatewayClass>(`/apis/${group}/v1/gatewayclasses`),
    ...ids.map(async (id) => {
      const [ns, name] = id.split('/');
      const gateway = await get<Gateway>(`/apis/${group}/v1/namespaces/${ns}/gateways/${name}`);
      if (gateway) gateways.set(id, gateway);
    }),
  ]);
  return { gateways, classes: classes as GatewayClass[] };
}

/**
 * Every gateway finding of the set: the parent Gateways of its HTTPRoutes, and their backend Services that
 * are not in the set but must exist in the cluster. `labels` are the namespace's (live, or as created).
 */
export async function gatewayFindings(
  cluster: Pick<Cluster, 'get' | 'request'>,
  objects: KubernetesObject[],
  namespace: string,
  labels: Record<string, string> | undefined,
): Promise<Finding[]> {
  const routes = objects.filter((o) => o.kind === 'HTTPRoute');
  if (routes.length === 0) return [];
  const read = await readGateways(
    (path) => cluster.get(path),
    async (path) => (await cluster.request<{ items: never[] }>('GET', path)).items,
    routes,
    namespace,
  );
  const findings = checkGateways(routes, namespace, { ...read, namespaceLabels: labels });
  const inSet = objects.map((o) => o as Manifest['object']).map((object) => ({ file: '', line: 0, object }));
  for (const b of outsideBackends(inSet)) {
    const ns = b.namespace ?? namespace;
    if (!(await cluster.get(`/api/v1/namespaces/${ns}/services/${b.name}`)))
      findings.push(
        finding(
          'gateway',
          `HTTPRoute/${b.route}: backendRef Service '${b.name}'${ns !== namespace ? ` in namespace ${ns}` : ''} is neither in the manifests nor in the cluster; add the Service to the set or fix the backendRef's name`,
        ),
      );
  }
  return findings;
}

/**
 * The labels a Gateway's allowedRoutes selector sees on the namespace: read live (a deploy that knows its
 * namespace exists gives ClusterState no labels), else the set's Namespace; undefined when unreadable.
 */
export async function routeLabels(
  cluster: Cluster,
  ns: string,
  objects: KubernetesObject[],
  skip: (what: string, error: unknown) => void,
): Promise<Record<string, string> | undefined> {
  try {
    const namespace =
      (await readNamespace(cluster, ns)) ??
      (objects.find((o) => o.kind === 'Namespace') as Namespace | undefined);
    return namespace ? { 'kubernetes.io/metadata.name': ns, ...namespace.metadata?.labels } : undefined;
  } catch (error) {
    skip('the namespace labels an HTTPRoute is admitted by', error);
    return undefined;
  }
}
