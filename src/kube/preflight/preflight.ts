import type { KubernetesObject, V1Deployment, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import type { ImagePlatform } from '../../util/platform.js';
import type { DryRun } from '../apply/apply.js';
import type { Cluster } from '../client/client.js';
import { podTemplateOf } from '../manifests/render.js';
import { selects } from '../manifests/selector.js';
import { checkLimitRanges, checkQuotas, type ResourceQuota } from './admission.js';
import { checkArchitecture } from './architecture.js';
import { checkCapacity, rollingUpdate } from './capacity.js';
import type { Finding } from './findings.js';
import { gatewayFindings, routeLabels } from './gateway.js';
import { type AksCluster, appRoutingNotice, checkIngressClasses } from './ingress-class.js';
import { type LimitRange, podRequests } from './pods.js';
import { checkReferences, type Lookup, type ReferencedKind, referencesOf } from './references.js';
import { eligibility, eligibleNodes } from './scheduling.js';
import { attempt, ClusterState, lookupOf, ok, type Read, readsWithoutImage, shapeOf } from './state.js';
import { compareWithLive, type Unchanged } from './unchanged.js';

// After the manifests are rendered and validated, before the first apply: what the cluster will do with
// them, decided from what it holds now. Reads only (server-side dry-runs at most); nothing is written in any
// outcome. Each finding is an error (preflight throws, nothing is applied) or, with input `preflight: warn`,
// a warning; a check that cannot read what it needs (credentials without list rights on nodes, say) says
// so and is skipped. A set equal to what is live skips the checks and is reported unchanged.

export interface PreflightOptions {
  namespace: string;
  /** app.kubernetes.io/instance of the set (prune's selector) */
  instance: string;
  fieldManager: string;
  /** the pushed image, registry/name@sha256:... */
  image: string;
  /** reads the pushed image's platforms from the registry */
  imagePlatforms: () => Promise<ImagePlatform[]>;
  mode: 'error' | 'warn';
  /** the namespace is known to exist and not to be terminating: not asked again */
  namespaceExists?: boolean;
  /** reads already asked (preflightReads), whose answers still count */
  state?: ClusterState | undefined;
  /** names the add-on commands after the cluster when it is AKS */
  aks?: AksCluster | undefined;
  log?: { info(message: string): void; warning(message: string): void; notice(message: string): void };
}

export interface PreflightResult {
  /** the set equals what is live: apply nothing, track nothing */
  unchanged?: Unchanged;
  /** what was read of the set's objects: the live ones by Kind/name, the passed dry-runs by object */
  live: Map<string, KubernetesObject>;
  dryRuns: Map<KubernetesObject, DryRun>;
  findings: Finding[];
  /** checks that could not run, and why */
  skipped: string[];
}

export async function preflight(
  cluster: Cluster,
  objects: KubernetesObject[],
  options: PreflightOptions,
): Promise<PreflightResult> {
  const log = options.log ?? { info() {}, warning() {}, notice() {} };
  const ns = options.namespace;
  const state = options.state ?? new ClusterState(cluster, ns, options.namespaceExists);
  // what makes pods, where kube/kinds.ts says its pod template is (a CronJob's in its jobTemplate)
  const { workloads, ingresses, deployments } = shapeOf(objects);
  // once per deploy, not a finding: the NGINX-based application routing is past its support window
  const notice = appRoutingNotice(ingresses);
  if (notice) log.notice(notice);
  const usesImage = (o: KubernetesObject) =>
    [...(specOf(o)?.containers ?? []), ...(specOf(o)?.initContainers ?? [])].some(
      (c) => c.image === options.image,
    );
  // every read at once: the comparison with what is live, and what the checks need (unused when the set
  // is unchanged; each read catches its own error)
  const reads = readForChecks(state, { workloads, ingresses, deployments, usesImage }, options);
  const compared = await compareWithLive(cluster, objects, options, state.liveNamespace());
  if (compared.unchanged) {
    const u = compared.unchanged;
    for (const o of u.objects) log.info(`${o.kind}/${o.name} unchanged`);
    log.notice(
      `unchanged: all ${u.objects.length} objects in namespace '${options.namespace}' equal what is live${u.revision ? ` and revision ${u.revision} is rolled out` : ''}; nothing was applied and no revision was made`,
    );
    return { unchanged: u, findings: [], skipped: [], live: compared.live, dryRuns: compared.dryRuns };
  }

  const findings: Finding[] = [];
  const skipped: string[] = [];
  const skip = (what: string, error: unknown) => {
    const line = `preflight: ${what} not checked: ${errorText(error)}`;
    if (!skipped.includes(line)) skipped.push(line);
  };

  const [nodes, bound, platforms, limitRanges, quotas, nsPods, classes] = await reads;
  const ranges = limitRanges.ok ? limitRanges.value : [];
  const own = (d: V1Deployment) => ownPods(d, nsPods.ok ? nsPods.value : []);
  // pods the rolling update adds while all old ones still run: only when the template changes and
  // maxUnavailable lets no old pod go first
  const surgeOf = async (d: V1Deployment) => {
    const read = compared.live.get(`Deployment/${d.metadata?.name}`);
    const live = read
      ? { ok: true, value: read }
      : await state.get<V1Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${d.metadata?.name}`);
    const fence = rollingUpdate(d.spec ?? {});
    const rolls = live.ok && live.value !== undefined && !compared.sameTemplate.has(d.metadata?.name ?? '');
    return rolls && fence.unavailable === 0 ? fence.surge : 0;
  };
  if (!limitRanges.ok) skip('LimitRange defaults and limits', limitRanges.error);

  // architecture
  if (!platforms.ok) skip(`the platforms of ${options.image}`, platforms.error);
  else if (!nodes.ok) skip('architecture and capacity (the nodes)', nodes.error);
  else
    for (const w of workloads.filter(usesImage))
      findings.push(
        ...checkArchitecture(name(w), options.image, platforms.value, eligibleNodes(specOf(w), nodes.value)),
      );

  // capacity
  if (deployments.length > 0 && nodes.ok) {
    if (!bound.ok) skip('capacity (the pods on the nodes)', bound.error);
    else
      for (const d of deployments) {
        const mine = new Set(own(d).map((p) => p.metadata?.uid));
        const spec = d.spec?.template?.spec;
        findings.push(
          ...checkCapacity({
            workload: name(d),
            replicas: d.spec?.replicas ?? 1,
            surge: await surgeOf(d),
            request: podRequests(spec, ranges),
            nodes: eligibility(spec, nodes.value),
            boundPods: bound.value.filter((p) => !mine.has(p.metadata?.uid)),
          }),
        );
      }
  }

  // ingress class
  if (ingresses.length > 0) {
    if (!classes.ok) skip('ingress classes', classes.error);
    else findings.push(...checkIngressClasses(ingresses, classes.value, options.aks));
  }
  // the parent Gateways of the HTTPRoutes: class, listener, hostnames, allowedRoutes; outside backends
  if (objects.some((o) => o.kind === 'HTTPRoute'))
    await gatewayFindings(cluster, objects, ns, await routeLabels(cluster, ns, objects, skip)).then(
      (found) => findings.push(...found),
      (error) => skip('gateways', error),
    );

  // references, LimitRange and ResourceQuota
  findings.push(
    ...(await checkAdmission(state, objects, workloads, deployments, {
      ns,
      ranges,
      quotas,
      skip,
      surgeOf,
      own,
    })),
  );

  for (const line of skipped) log.warning(line);
  const result = { findings, skipped, live: compared.live, dryRuns: compared.dryRuns };
  enforce(result, options.mode, log);
  return result;
}

/** The reads the checks need, all asked at once; each catches its own error. */
function readForChecks(
  state: ClusterState,
  set: {
    workloads: KubernetesObject[];
    ingresses: KubernetesObject[];
    deployments: V1Deployment[];
    usesImage: (o: KubernetesObject) => boolean;
  },
  options: PreflightOptions,
) {
  const [nodes, bound, limitRanges, quotas, nsPods, classes] = readsWithoutImage(state, set);
  return Promise.all([
    nodes,
    bound,
    set.workloads.some(set.usesImage) ? attempt(options.imagePlatforms) : ok<ImagePlatform[]>([]),
    limitRanges,
    quotas,
    nsPods,
    classes,
  ] as const);
}

/** Starts preflight's reads that need no image, for a preflight of this set under the lock (options.state). */
export function preflightReads(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
): ClusterState {
  const state = new ClusterState(cluster, namespace, true);
  // each read keeps its own answer or error (attempt), for preflight to judge
  readsWithoutImage(state, shapeOf(objects));
  return state;
}

/** What admission would refuse: references to what is neither live nor in the set, LimitRange, ResourceQuota. */
async function checkAdmission(
  state: ClusterState,
  objects: KubernetesObject[],
  workloads: KubernetesObject[],
  deployments: V1Deployment[],
  context: {
    ns: string;
    ranges: LimitRange[];
    quotas: Read<ResourceQuota[]>;
    skip: (what: string, error: unknown) => void;
    surgeOf: (d: V1Deployment) => Promise<number>;
    own: (d: V1Deployment) => V1Pod[];
  },
): Promise<Finding[]> {
  const { ns, ranges, quotas, skip } = context;
  const inSet = new Map(objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
  const findings: Finding[] = [];
  const lookups = new Map<string, Lookup | undefined>();
  for (const w of workloads)
    for (const ref of referencesOf(specOf(w))) {
      const key = `${ref.kind}/${ref.name}`;
      if (lookups.has(key)) continue;
      const fromSet = inSet.get(key);
      lookups.set(key, fromSet ? lookupOf(fromSet) : await state.lookup(ref.kind, ref.name, skip));
    }
  for (const w of workloads)
    findings.push(
      ...checkReferences(name(w), ns, referencesOf(specOf(w)), (kind: ReferencedKind, n: string) =>
        lookups.get(`${kind}/${n}`),
      ),
    );
  for (const w of workloads) findings.push(...checkLimitRanges(name(w), specOf(w), ranges));
  if (!quotas.ok) skip('ResourceQuota', quotas.error);
  else if (quotas.value.length > 0) {
    const created = await createdCounts(state, objects, ns);
    for (const [i, d] of deployments.entries())
      findings.push(
        ...checkQuotas(
          {
            workload: name(d),
            namespace: ns,
            spec: d.spec?.template?.spec,
            pods: (d.spec?.replicas ?? 1) + (await context.surgeOf(d)),
            ownPods: context.own(d).flatMap((p) => (p.spec ? [p.spec] : [])),
            // object counts are the set's, not a workload's: checked once
            created: i === 0 ? created : {},
          },
          quotas.value,
          ranges,
        ),
      );
  }
  return findings;
}

/** Logs the findings; throws when any is an error, so that nothing is applied. */
export function enforce(
  result: Pick<PreflightResult, 'findings' | 'skipped' | 'unchanged'>,
  mode: 'error' | 'warn',
  log?: PreflightOptions['log'],
): void {
  const errors = result.findings.filter((f) => f.always || mode === 'error');
  const warnings = result.findings.filter((f) => !errors.includes(f));
  for (const f of warnings)
    log?.warning(`preflight (${f.check}, a warning by input 'preflight: warn'): ${f.message}`);
  if (errors.length > 0)
    throw new Error(
      `Preflight found ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was applied:\n- ${errors
        .map((f) => `${f.check}: ${f.message}`)
        .join(
          '\n- ',
        )}${mode === 'error' && errors.some((f) => !f.always) ? "\n(input 'preflight: warn' lets the deploy go on with warnings)" : ''}`,
    );
  if (result.findings.length === 0 && !result.unchanged)
    log?.info(
      `preflight: architecture, capacity, ingress class, gateway, references and admission checked${result.skipped.length > 0 ? ` (${result.skipped.length} skipped)` : ''}: no problem found`,
    );
}

function name(o: KubernetesObject): string {
  return `${o.kind}/${o.metadata?.name}`;
}

function specOf(o: KubernetesObject): V1PodSpec | undefined {
  return podTemplateOf(o as Record<string, unknown>)?.spec as V1PodSpec | undefined;
}

/** The Deployment's live pods (those matching its selector): the rollout replaces them. */
function ownPods(d: V1Deployment, pods: V1Pod[]): V1Pod[] {
  return pods.filter(
    (p) => !p.metadata?.deletionTimestamp && selects(d.spec?.selector, p.metadata?.labels ?? {}),
  );
}

const quotaNames: Record<string, string[]> = {
  Deployment: ['count/deployments.apps'],
  Service: ['services', 'count/services'],
  ConfigMap: ['configmaps', 'count/configmaps'],
  Secret: ['secrets', 'count/secrets'],
  Ingress: ['count/ingresses.networking.k8s.io'],
  ServiceAccount: ['count/serviceaccounts'],
};

/** Objects the apply creates (not live yet), counted under the names ResourceQuota uses for them. */
async function createdCounts(
  state: ClusterState,
  objects: KubernetesObject[],
  ns: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const o of objects) {
    const names = quotaNames[o.kind ?? ''];
    if (!names) continue;
    const live = await state.getObject(o, ns);
    if (live.ok && live.value !== undefined) continue;
    for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
  }
  return counts;
}
