import type { CoreV1Event, V1Deployment, V1Node, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TemplateChange } from '../manifests/template-diff.js';
import type { PullFailure } from './kubelet-messages.js';

// The diagnosis of a failed rollout, as data: what kube/diagnosis/diagnose.ts reads, diagnosis-model.ts builds and
// diagnosis-sentence.ts puts into words (the job summary renders it in github/diagnosis-markdown.ts).

export interface ContainerDiagnosis {
  name: string;
  image: string;
  ready: boolean;
  restarts: number;
  state: 'waiting' | 'running' | 'terminated' | 'unknown';
  reason?: string;
  message?: string;
  exitCode?: number;
  lastTermination?: { reason?: string; exitCode?: number; message?: string };
  /** last lines of its log (the previous run's after a restart) */
  log?: string[];
  /** why there is no log (the node serves none, e.g. it is not reachable) */
  logError?: string;
  /** resources.limits.memory, for OOMKilled */
  memoryLimit?: string;
  /** the readiness probe, described */
  readinessProbe?: string;
  /** state.running.startedAt */
  runningSince?: string;
  /** what the kubelet said about pulling its image */
  pull?: PullFailure;
  /** the readiness probe's failures from the events */
  probeFailure?: { detail: string; count: number; first: string; last: string };
  /** the program could not run on the node's architecture */
  execFormatError?: boolean;
}

export interface PodDiagnosis {
  name: string;
  phase: string;
  node?: string;
  /** the node's os/arch, where it matters */
  nodePlatform?: string;
  ready: boolean;
  /** the scheduler's message when the pod cannot be placed */
  unschedulable?: string;
  /** spec.imagePullSecrets' names */
  pullSecrets?: string[];
  containers: ContainerDiagnosis[];
}

export interface EventLine {
  object: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  last: string;
  first?: string;
  /** the container the event is about (involvedObject.fieldPath spec.containers{name}) */
  container?: string;
}

export interface Diagnosis {
  namespace: string;
  deployment: string;
  revision: number;
  replicaSet?: string;
  desired: number;
  ready: number;
  healthy: boolean;
  pods: PodDiagnosis[];
  events: EventLine[];
  /** the pod template's changes from the previous revision */
  changes: TemplateChange[];
  previousRevision?: number;
  /** which revision serves now: "revision 2 is still serving (2 of 2 pods ready)" */
  serving: string;
  /** one sentence: what failed, why, the fix, and which revision is serving now */
  summary: string;
  /**
   * The same sentence without what the pods wrote (their log lines): for places anyone can read or that
   * render Markdown, the pull request's comment and the deployment status. Pod logs are the pull request's.
   */
  publicSummary: string;
}

export interface DiagnoseOptions {
  logLines?: number;
  maxEvents?: number;
  /** at most this many containers' logs are fetched */
  maxLogs?: number;
  /** no log is fetched, for this reason (a pull request's pods in a public repository) */
  withholdLogs?: string;
  /** names the az commands after the cluster */
  aks?: { resourceGroup: string; clusterName: string };
}

export interface DiagnosisInput {
  namespace: string;
  name: string;
  deployment: V1Deployment;
  replicaSets: V1ReplicaSet[];
  /** the Deployment's pods (any revision) */
  pods: V1Pod[];
  /** the namespace's events */
  events: CoreV1Event[];
  /** "pod/container" -> its log lines, or why there are none */
  logs?: Map<string, { lines?: string[]; error?: string }>;
  /** nodes by name, where their platform matters */
  nodes?: Map<string, V1Node>;
  now?: Date;
}

export const pullReasons = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
]);
export const configReasons = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Whole seconds from one time to a later one; undefined when either is missing. */
export function seconds(from: string | undefined, to: string | Date | undefined): number | undefined {
  const a = from ? new Date(from).getTime() : Number.NaN;
  const b = to instanceof Date ? to.getTime() : to ? new Date(to).getTime() : Number.NaN;
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? Math.round((b - a) / 1000) : undefined;
}
