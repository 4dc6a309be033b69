import type { KubernetesObject } from '@kubernetes/client-node';
import { canaryLabel, canaryName, canaryProbeHeader } from '../../names.js';
import type { CanarySettings } from '../../settings/strategy.js';
import { errorText } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { ssa } from '../apply/ssa.js';
import type { Cluster } from '../client/client.js';
import { doorOf, type FrontDoor, getThrough } from '../reach/front-door.js';
import { waitForRoutes } from '../reach/route-status.js';
import { analyse, describeVerdict, type Sample, type Verdict } from './analysis.js';
import { type CanaryTarget, canaryObjects, canaryReplicas, routeAt } from './plan.js';

// The canary's steps against the cluster: at each weight the canary Deployment is scaled to its share and
// rolled out, the route is split by server-side apply (one object, one field manager) and accepted, and both
// sides are probed through the controller with the probe header for the step's duration; the verdict decides.
// A failed step throws CanaryAbort: the deploy's failure path restores the previous release, which puts the
// route back on stable and prunes the canary's objects.

export interface CanaryStep {
  weight: number;
  verdict: Verdict;
}

export class CanaryAbort extends Error {
  constructor(
    message: string,
    readonly steps: CanaryStep[],
  ) {
    super(message);
    this.name = 'CanaryAbort';
  }
}

export interface CanaryRunOptions {
  namespace: string;
  fieldManager: string;
  canary: CanarySettings;
  /** the GET each probe sends (input smoke-path) */
  path: string;
  /** the stable Deployment's replicas: the canary's pods are its share of them */
  stableReplicas: number;
  /** rolls out the canary Deployment once written (the deploy's tracking, with its diagnosis) */
  rollOut: (deployment: KubernetesObject) => Promise<void>;
  log: (line: string) => void;
  signal: AbortSignal;
}

const probeTimeoutMs = 5000;
const routeWaitMs = 60_000;
/** past the step's duration, how long probes may go on to reach the minimum count (bounded) */
const probeGraceMs = 120_000;

/** Every step of the canary, each passed; throws CanaryAbort with the figures of the step that failed. */
export async function runCanary(
  cluster: Cluster,
  target: CanaryTarget,
  options: CanaryRunOptions,
): Promise<CanaryStep[]> {
  const { namespace, fieldManager, canary } = options;
  const steps: CanaryStep[] = [];
  const stable = target.service.metadata?.name ?? '';
  const write = async (object: KubernetesObject) =>
    ssa(
      cluster,
      await cluster.pathOf(object.apiVersion ?? '', object.kind ?? '', namespace, object.metadata?.name),
      object,
      fieldManager,
      true,
      false,
    );
  for (const weight of canary.steps) {
    options.signal.throwIfAborted();
    const { deployment, service } = canaryObjects(target, canaryReplicas(options.stableReplicas, weight));
    await write(service);
    await write(deployment);
    await options.rollOut(deployment);
    const route = routeAt(target, weight);
    await write(route);
    await waitForRoutes(cluster, namespace, [route], { timeoutMs: routeWaitMs, log: options.log });
    const { door } = await doorOf(
      cluster,
      namespace,
      route,
      // the split rule, which sends to either side by weight (the probe rules match a header a plain GET lacks)
      new Map([[options.path, new Set([stable, canaryName(stable)])]]),
    );
    if (typeof door === 'string')
      throw new CanaryAbort(`canary at ${weight} %: cannot probe it: ${door}`, steps);
    const samples = await probe(door, canary, options.signal);
    const verdict = analyse(samples.stable, samples.canary, canary);
    const restarts = await restartsOf(cluster, namespace);
    if (restarts > 0) {
      verdict.pass = false;
      verdict.failures.push(`the canary's containers restarted ${restarts} times`);
    }
    steps.push({ weight, verdict });
    options.log(describeVerdict(weight, verdict));
    if (!verdict.pass) throw new CanaryAbort(describeVerdict(weight, verdict), steps);
  }
  return steps;
}

/**
 * Probes both sides in turn for the step's duration, and on until each has canary.minRequests answers (at
 * most probeGraceMs more), or only until those show the canary failing; no answer counts as an error.
 */
async function probe(
  door: FrontDoor,
  canary: CanarySettings,
  signal: AbortSignal,
): Promise<{ canary: Sample[]; stable: Sample[] }> {
  const samples = { canary: [] as Sample[], stable: [] as Sample[] };
  const start = Date.now();
  const interval = Math.max(20, Math.min(1000, canary.stepMs / (2 * canary.minRequests)));
  const counted = () =>
    samples.canary.length >= canary.minRequests && samples.stable.length >= canary.minRequests;
  // a pass needs the whole step; a failure is final as soon as enough answers show it
  const enough = () =>
    counted() &&
    (Date.now() - start >= canary.stepMs || !analyse(samples.stable, samples.canary, canary).pass);
  while (!enough() && Date.now() - start < canary.stepMs + probeGraceMs) {
    signal.throwIfAborted();
    for (const side of ['canary', 'stable'] as const) {
      const sent = Date.now();
      const status = await getThrough(door, probeTimeoutMs, { [canaryProbeHeader]: side }).then(
        (answer) => answer.status,
        () => 0,
      );
      samples[side].push({ status, ms: Date.now() - sent });
    }
    await sleep(interval, signal);
  }
  return samples;
}

/** Container restarts of the canary's pods, all told. */
async function restartsOf(cluster: Cluster, namespace: string): Promise<number> {
  try {
    const pods = await cluster.request<{
      items: { status?: { containerStatuses?: { restartCount?: number }[] } }[];
    }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {
      query: { labelSelector: `${canaryLabel}=canary` },
    });
    return pods.items
      .flatMap((p) => p.status?.containerStatuses ?? [])
      .reduce((n, c) => n + (c.restartCount ?? 0), 0);
  } catch (error) {
    throw new Error(`cannot read the canary's pods: ${errorText(error)}`, { cause: error });
  }
}
