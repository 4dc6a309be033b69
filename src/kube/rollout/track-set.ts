import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DeployPlan } from '../../plan.js';
import { aksNames, type Settings } from '../../settings.js';
import { errorText } from '../../util/errors.js';
import { allOrFirstFailure } from '../../util/parallel.js';
import type { Cluster } from '../client/client.js';
import { type Diagnosis, diagnose, diagnosisLines } from '../diagnosis/diagnose.js';
import { kindOf } from '../kinds.js';
import { isPreDeploy, jobLogs } from './pre-deploy.js';
import { RolloutFailure, trackRollout } from './track.js';
import { trackWorkload } from './track-workload.js';

// The one way a set's workloads are followed to the end of their rollout, for the deploy, the automatic
// restore and both manual rollbacks: Deployments by watch (track.ts), diagnosed when they fail; the other
// workloads the kstatus way (track-workload.ts), a Job with its logs. Each says once whose rollout it was.

/** How long and how patiently a rollout is followed, and what a failure may show (from the inputs). */
export interface TrackingOptions {
  /** input rollout-timeout */
  timeoutMs: number;
  /** input failure-grace */
  graceMs: number;
  graceObservations: number;
  crashLoopRestarts: number;
  /** why pod logs stay out of the job log ('' shows them): a preview's, in a public repository */
  withholdLogs: string;
  /** the AKS cluster, for the az commands a diagnosis suggests */
  aks?: { resourceGroup: string; clusterName: string };
  log: { info(line: string): void; warning(line: string): void };
}

/** The tracking options of this run's inputs; a deploy's plan says whether pod logs are withheld. */
export function trackingOptions(
  settings: Pick<Settings, 'rolloutTimeoutMs' | 'failureGrace' | 'cluster'>,
  plan?: Pick<DeployPlan, 'podLogsWithheld'>,
): TrackingOptions {
  return {
    timeoutMs: settings.rolloutTimeoutMs,
    ...settings.failureGrace,
    withholdLogs: plan?.podLogsWithheld ?? '',
    ...aksNames(settings),
    log: core,
  };
}

export interface SetTrackOptions extends TrackingOptions {
  /**
   * All at once, the first failure stopping the others (a deploy); else one after another, in the order
   * given (a restore, a rollback: what comes back was rolled out before).
   */
  together?: boolean;
  /** stops all of them: a cancelled run */
  signal?: AbortSignal;
  /** a failed Deployment is diagnosed (default true) */
  diagnose?: boolean;
  /** wraps each workload's tracking, named `rollout of Kind/name` (a timing, a log group) */
  time?: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  /** each workload as it completes */
  onDone?: (done: Tracked) => void;
}

export interface Tracked {
  kind: string;
  name: string;
  /** a Deployment's revision once rolled out */
  revision?: number;
  elapsedMs: number;
}

/**
 * A workload that did not roll out. Its message says whose rollout it was and why ("the rollout of
 * Deployment/web revision 3 failed: ..."); `cause` is the tracker's own error.
 */
export class TrackFailure extends Error {
  /** a Deployment's revision that failed */
  readonly revision?: number;
  /** what a failed Deployment's pods showed */
  readonly diagnosis?: Diagnosis;

  constructor(
    message: string,
    readonly kind: string,
    readonly workload: string,
    options: { cause: unknown; revision?: number; diagnosis?: Diagnosis },
  ) {
    super(message, { cause: options.cause });
    this.name = 'TrackFailure';
    this.revision = options.revision;
    this.diagnosis = options.diagnosis;
  }

  /** "Kind/name" */
  get ref(): string {
    return `${this.kind}/${this.workload}`;
  }
}

/** The tracker's own words for a failure: a TrackFailure's cause, anything else's message. */
export function trackerText(error: unknown): string {
  return errorText(error instanceof TrackFailure ? error.cause : error);
}

/** The objects of a set whose rollout is followed: its workloads, but for the pre-deploy ones (run before). */
export function workloadsOf(objects: KubernetesObject[]): KubernetesObject[] {
  return objects.filter((o) => kindOf(o.kind)?.rollout !== undefined && !isPreDeploy(o));
}

/** Follows each workload until it is rolled out; throws TrackFailure for the first that is not. */
export async function trackSet(
  cluster: Cluster,
  namespace: string,
  workloads: KubernetesObject[],
  options: SetTrackOptions,
): Promise<Tracked[]> {
  const tasks = workloads.map((w) => (signal?: AbortSignal) => {
    const kind = w.kind ?? '';
    const name = w.metadata?.name ?? '';
    const work = async () => {
      const done =
        kind === 'Deployment'
          ? await deployment(cluster, namespace, name, options, signal)
          : await other(cluster, namespace, kind, name, options, signal);
      options.onDone?.(done);
      return done;
    };
    return options.time ? options.time(`rollout of ${kind}/${name}`, work) : work();
  });
  if (options.together) return allOrFirstFailure(tasks, options.signal);
  const tracked: Tracked[] = [];
  for (const task of tasks) tracked.push(await task(options.signal));
  return tracked;
}

async function deployment(
  cluster: Cluster,
  namespace: string,
  name: string,
  options: SetTrackOptions,
  signal: AbortSignal | undefined,
): Promise<Tracked> {
  try {
    const done = await trackRollout(cluster, namespace, name, {
      timeoutMs: options.timeoutMs,
      graceMs: options.graceMs,
      graceObservations: options.graceObservations,
      crashLoopRestarts: options.crashLoopRestarts,
      onProgress: (line) => options.log.info(line),
      signal,
    });
    options.log.info(
      `Deployment/${name} revision ${done.revision} rolled out in ${seconds(done.elapsedMs)} s${done.reconnects ? ` (the watch was resumed ${done.reconnects} times)` : ''}`,
    );
    return { kind: 'Deployment', name, revision: done.revision, elapsedMs: done.elapsedMs };
  } catch (error) {
    // stopped (a cancel, another workload failed): not this one's failure
    if (!(error instanceof RolloutFailure) || signal?.aborted) throw error;
    const diagnosis =
      options.diagnose === false
        ? undefined
        : await diagnose(cluster, namespace, name, {
            ...(options.aks ? { aks: options.aks } : {}),
            withholdLogs: options.withholdLogs,
          }).catch((e: unknown) => {
            options.log.warning(`could not diagnose Deployment/${name}: ${errorText(e)}`);
            return undefined;
          });
    for (const line of diagnosis ? diagnosisLines(diagnosis) : []) options.log.info(line);
    // each says whose rollout it is: said once, here
    const revision = error.detail.revision;
    const why =
      diagnosis?.summary.replace(`Deployment ${name} revision ${revision} failed: `, '') ??
      error.message.replace(/^Deployment \S+ \(namespace [^,]+, revision \d+\): /, '');
    throw new TrackFailure(
      `the rollout of Deployment/${name} revision ${revision} failed: ${why}`,
      'Deployment',
      name,
      { cause: error, revision, ...(diagnosis ? { diagnosis } : {}) },
    );
  }
}

/** A StatefulSet, DaemonSet or Job, the way kstatus reads it. */
async function other(
  cluster: Cluster,
  namespace: string,
  kind: string,
  name: string,
  options: SetTrackOptions,
  signal: AbortSignal | undefined,
): Promise<Tracked> {
  const ref = `${kind}/${name}`;
  const done = await trackWorkload(cluster, namespace, kind, name, {
    timeoutMs: options.timeoutMs,
    graceMs: options.graceMs,
    crashLoopRestarts: options.crashLoopRestarts,
    onProgress: (line) => options.log.info(line),
    signal,
  }).catch(async (error: unknown) => {
    if (signal?.aborted) throw error;
    // a Job's own words say why it failed
    const logs =
      kind === 'Job'
        ? await jobLogs(cluster, namespace, name, 20, options.withholdLogs).catch(
            (e: unknown) => `\n  (its logs could not be read: ${errorText(e)})`,
          )
        : '';
    throw new TrackFailure(`the rollout of ${ref} failed: ${errorText(error)}${logs}`, kind, name, {
      cause: error,
    });
  });
  options.log.info(`${ref} ${kind === 'Job' ? 'complete' : 'rolled out'} in ${seconds(done.elapsedMs)} s`);
  return { kind, name, elapsedMs: done.elapsedMs };
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
