import type {
  CoreV1Event,
  V1Container,
  V1ContainerStatus,
  V1Deployment,
  V1Node,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { containerState } from '../util/container-state.js';
import { errorText } from '../util/errors.js';
import type { Cluster } from './client.js';
import {
  imagesOf,
  newReplicaSet,
  podTemplateHashLabel,
  readDeployment,
  replicaSetsOf,
  revisionOf,
  selectorString,
} from './deployment.js';
import {
  acrName,
  classifyPull,
  execFormatError,
  lastCause,
  type PullFailure,
  parseProbeFailure,
  signalOf,
} from './kubelet-messages.js';
import { describeProbe, type TemplateChange, templateDiff } from './template-diff.js';

// After a failed rollout: what each pod of the newest ReplicaSet says, the recent events, the failing
// container's log where the node serves one, what changed since the previous revision, and one sentence
// saying what failed, why, the fix, and which revision is serving now. The cluster is read in diagnose();
// buildDiagnosis() turns what was read into the diagnosis, with no calls, so that the kubelet's real
// shapes (which kwok nodes do not produce) are tested on recorded objects.

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
  /** why there is no log (kwok nodes serve none) */
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

const pullReasons = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']);
const configReasons = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export async function diagnose(
  cluster: Cluster,
  namespace: string,
  name: string,
  options: DiagnoseOptions = {},
): Promise<Diagnosis> {
  const deployment = await readDeployment(cluster, namespace, name);
  const replicaSets = await replicaSetsOf(cluster, deployment);
  const podList = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: selectorString(deployment.spec?.selector) },
  });
  const eventList = await cluster.request<{ items: CoreV1Event[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/events`,
  );
  const input: DiagnosisInput = {
    namespace,
    name,
    deployment,
    replicaSets,
    pods: podList.items,
    events: eventList.items,
    logs: new Map(),
    nodes: new Map(),
  };

  // logs of the containers that ran and failed, as far as the nodes serve them
  const first = buildDiagnosis(input, options);
  let logsLeft = options.maxLogs ?? 3;
  for (const pod of first.pods)
    for (const c of pod.containers) {
      if (logsLeft <= 0 || !wantsLog(c)) continue;
      logsLeft -= 1;
      const previous = c.restarts > 0 && c.state !== 'running';
      try {
        const text = await cluster.request<string>(
          'GET',
          `/api/v1/namespaces/${namespace}/pods/${pod.name}/log`,
          {
            query: { container: c.name, tailLines: options.logLines ?? 20, previous },
            text: true,
            timeoutMs: 5_000,
          },
        );
        input.logs?.set(`${pod.name}/${c.name}`, {
          lines: text.split('\n').filter((line, j, all) => line !== '' || j < all.length - 1),
        });
      } catch (error) {
        input.logs?.set(`${pod.name}/${c.name}`, { error: errorText(error).split('\n')[0] ?? '' });
      }
    }
  // the node's platform, for a program that could not run on it
  const second = buildDiagnosis(input, options);
  for (const pod of second.pods)
    if (pod.node && pod.containers.some((c) => c.execFormatError) && !input.nodes?.has(pod.node))
      try {
        input.nodes?.set(pod.node, await cluster.request<V1Node>('GET', `/api/v1/nodes/${pod.node}`));
      } catch {
        // without the node the sentence names no architecture
      }
  return buildDiagnosis(input, options);
}

/** The diagnosis of what was read; no cluster calls. */
export function buildDiagnosis(input: DiagnosisInput, options: DiagnoseOptions = {}): Diagnosis {
  const { deployment, replicaSets, name, namespace } = input;
  const newest =
    newReplicaSet(deployment, replicaSets) ??
    [...replicaSets].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  const hash = newest?.metadata?.labels?.[podTemplateHashLabel];
  const pods = input.pods
    .filter((p) => !hash || p.metadata?.labels?.[podTemplateHashLabel] === hash)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));

  const uids = new Map<string, string>();
  uids.set(deployment.metadata?.uid ?? '', `Deployment/${name}`);
  for (const rs of replicaSets) uids.set(rs.metadata?.uid ?? '', `ReplicaSet/${rs.metadata?.name}`);
  for (const p of pods) uids.set(p.metadata?.uid ?? '', `Pod/${p.metadata?.name}`);
  const allEvents: EventLine[] = input.events
    .filter((e) => uids.has(e.involvedObject?.uid ?? ''))
    .map((e) => {
      const container = /^spec\.(?:init)?[cC]ontainers\{(.+)\}$/.exec(e.involvedObject?.fieldPath ?? '')?.[1];
      const first = String(e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '');
      return {
        object: uids.get(e.involvedObject?.uid ?? '') ?? '',
        type: e.type ?? '',
        reason: e.reason ?? '',
        message: (e.message ?? '').trim(),
        count: e.count ?? e.series?.count ?? 1,
        last: String(
          e.lastTimestamp ??
            e.series?.lastObservedTime ??
            e.eventTime ??
            e.firstTimestamp ??
            e.metadata?.creationTimestamp ??
            '',
        ),
        ...(first ? { first } : {}),
        ...(container ? { container } : {}),
      };
    })
    .sort((a, b) => new Date(a.last).getTime() - new Date(b.last).getTime());

  const podDiagnoses = pods.map((pod) => describePod(pod, allEvents, input));
  const desired = deployment.spec?.replicas ?? 1;
  const ready = podDiagnoses.filter((p) => p.ready).length;
  const revision = revisionOf(deployment);
  const previous = [...replicaSets]
    .filter((rs) => revisionOf(rs) > 0 && revisionOf(rs) < (revisionOf(newest ?? {}) || revision))
    .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  const diagnosis: Diagnosis = {
    namespace,
    deployment: name,
    revision,
    ...(newest?.metadata?.name ? { replicaSet: newest.metadata.name } : {}),
    desired,
    ready,
    healthy: ready >= desired && podDiagnoses.length >= desired,
    pods: podDiagnoses,
    events: allEvents.slice(-(options.maxEvents ?? 20)),
    changes: previous
      ? templateDiff(previous.spec?.template, newest?.spec?.template ?? deployment.spec?.template)
      : [],
    ...(previous ? { previousRevision: revisionOf(previous) } : {}),
    serving: serving(replicaSets, newest),
    summary: '',
    publicSummary: '',
  };
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  const images = imagesOf(deployment.spec?.template);
  diagnosis.summary = summarize(diagnosis, images, progressing, options, input.now ?? new Date(), true);
  diagnosis.publicSummary = summarize(
    diagnosis,
    images,
    progressing,
    options,
    input.now ?? new Date(),
    false,
  );
  return diagnosis;
}

/** Which revision's pods serve while the new one fails: the old ReplicaSets with ready pods. */
function serving(replicaSets: V1ReplicaSet[], newest: V1ReplicaSet | undefined): string {
  const old = replicaSets.filter((rs) => rs !== newest && revisionOf(rs) > 0);
  const live = old
    .filter((rs) => (rs.status?.readyReplicas ?? 0) > 0)
    .sort((a, b) => revisionOf(b) - revisionOf(a));
  const [top] = live;
  if (top)
    return `revision ${revisionOf(top)} is still serving (${top.status?.readyReplicas} of ${top.spec?.replicas ?? top.status?.replicas ?? '?'} pods ready)`;
  if (old.length === 0) return 'no earlier revision is serving (this is the first)';
  return 'no revision is serving (no ready pods in any ReplicaSet)';
}

function describePod(pod: V1Pod, events: EventLine[], input: DiagnosisInput): PodDiagnosis {
  const podName = pod.metadata?.name ?? '';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const statuses = new Map<string, V1ContainerStatus>(
    [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [
      s.name,
      s,
    ]),
  );
  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const mine = events.filter((e) => e.object === `Pod/${podName}`);
  const node = pod.spec?.nodeName;
  const nodeObject = node ? input.nodes?.get(node) : undefined;
  const labels = nodeObject?.metadata?.labels ?? {};
  const os = labels['kubernetes.io/os'] ?? nodeObject?.status?.nodeInfo?.operatingSystem;
  const arch = labels['kubernetes.io/arch'] ?? nodeObject?.status?.nodeInfo?.architecture;
  const pullSecrets = (pod.spec?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean);
  return {
    name: podName,
    phase: pod.status?.phase ?? 'Unknown',
    ...(node ? { node } : {}),
    ...(os && arch ? { nodePlatform: `${os}/${arch}` } : {}),
    ready,
    ...(scheduled?.status === 'False' ? { unschedulable: scheduled.message ?? scheduled.reason ?? '' } : {}),
    ...(pullSecrets.length > 0 ? { pullSecrets } : {}),
    containers: specs.map((spec) =>
      describeContainer(
        spec,
        statuses.get(spec.name),
        mine.filter((e) => !e.container || e.container === spec.name),
        input.logs?.get(`${podName}/${spec.name}`),
      ),
    ),
  };
}

function describeContainer(
  spec: V1Container,
  s: V1ContainerStatus | undefined,
  events: EventLine[],
  log: { lines?: string[]; error?: string } | undefined,
): ContainerDiagnosis {
  const memoryLimit = (spec.resources?.limits as Record<string, string> | undefined)?.memory;
  const base: ContainerDiagnosis = {
    name: spec.name,
    image: spec.image ?? '',
    ready: s?.ready ?? false,
    restarts: s?.restartCount ?? 0,
    state: 'unknown',
    ...(memoryLimit ? { memoryLimit: String(memoryLimit) } : {}),
    ...(spec.readinessProbe ? { readinessProbe: describeProbe(spec.readinessProbe) } : {}),
    ...(log?.lines ? { log: log.lines } : {}),
    ...(log?.error ? { logError: log.error } : {}),
  };
  const last = s?.lastState?.terminated;
  if (last) base.lastTermination = { reason: last.reason, exitCode: last.exitCode, message: last.message };
  if (s?.state?.waiting) {
    base.state = 'waiting';
    base.reason = s.state.waiting.reason;
    base.message = s.state.waiting.message;
  } else if (s?.state?.terminated) {
    base.state = 'terminated';
    base.reason = s.state.terminated.reason;
    base.message = s.state.terminated.message;
    base.exitCode = s.state.terminated.exitCode;
  } else if (s?.state?.running) {
    base.state = 'running';
    if (s.state.running.startedAt) base.runningSince = String(s.state.running.startedAt);
  }

  if (base.reason && pullReasons.has(base.reason)) {
    // newest first: the kubelet's Failed events carry the registry's answer
    const messages = [
      ...[...events]
        .reverse()
        .filter((e) => e.reason === 'Failed' && /^Failed to pull image/.test(e.message))
        .map((e) => e.message),
      base.message ?? '',
    ];
    const pull = classifyPull(messages);
    if (pull) base.pull = pull;
  }
  const said = [
    base.message,
    base.lastTermination?.message,
    ...(base.log ?? []).slice(-5),
    ...events.filter((e) => e.type === 'Warning').map((e) => e.message),
  ];
  if (said.some((m) => m && execFormatError.test(m))) base.execFormatError = true;
  const probes = events
    .filter((e) => e.reason === 'Unhealthy')
    .map((e) => ({ e, failure: parseProbeFailure(e.message) }))
    .filter((x) => x.failure?.probe === 'Readiness');
  if (probes.length > 0) {
    const newest = probes.at(-1);
    base.probeFailure = {
      detail: newest?.failure?.detail ?? '',
      count: probes.reduce((sum, x) => sum + x.e.count, 0),
      first: probes[0]?.e.first ?? probes[0]?.e.last ?? '',
      last: newest?.e.last ?? '',
    };
  }
  return base;
}

function wantsLog(c: ContainerDiagnosis): boolean {
  if (c.reason && pullReasons.has(c.reason)) return false; // never started: no log to read
  return (
    c.restarts > 0 ||
    c.state === 'terminated' ||
    (c.state === 'running' && !c.ready) ||
    c.reason === 'CrashLoopBackOff'
  );
}

function seconds(from: string | undefined, to: string | Date | undefined): number | undefined {
  const a = from ? new Date(from).getTime() : Number.NaN;
  const b = to instanceof Date ? to.getTime() : to ? new Date(to).getTime() : Number.NaN;
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? Math.round((b - a) / 1000) : undefined;
}

function summarize(
  d: Diagnosis,
  images: string[],
  progressing: { reason?: string; message?: string } | undefined,
  options: DiagnoseOptions,
  now: Date,
  quoteLog: boolean,
): string {
  const subject = `Deployment ${d.deployment} revision ${d.revision}`;
  const end = `; ${d.serving}.`;
  const where = options.aks
    ? `--resource-group ${options.aks.resourceGroup} --name ${options.aks.clusterName}`
    : '--resource-group <resource-group> --name <cluster>';
  const each = d.pods.flatMap((pod) => pod.containers.map((c) => ({ pod, c })));

  const pull = each.find(({ c }) => c.reason && pullReasons.has(c.reason));
  if (pull) {
    const { c, pod } = pull;
    // the runtime's answer, when the kubelet gave one, replaces its (long) waiting message
    const head = `${subject} failed: pod ${pod.name} cannot pull image ${c.image} (${c.reason}${!c.pull && c.message ? `: ${c.message}` : ''})`;
    const acr = acrName(c.image);
    switch (c.pull?.kind) {
      case 'not-found':
        return `${head}: the registry has no such tag or digest (${lastCause(c.pull.detail)}); push the image or fix its reference in the manifests${end}`;
      case 'unauthorized':
        return (
          `${head}: the registry refused the node's pull (${lastCause(c.pull.detail)}); ` +
          (acr
            ? `the cluster's kubelet identity lacks AcrPull on ${acr}: attach the registry with 'az aks update ${where} --attach-acr ${acr}'`
            : pod.pullSecrets
              ? `the pod's imagePullSecret${pod.pullSecrets.length > 1 ? 's' : ''} ${pod.pullSecrets.join(', ')} ${pod.pullSecrets.length > 1 ? 'hold' : 'holds'} wrong credentials or ones without pull access: fix the username and password for ${c.image.split('/')[0]} in ${pod.pullSecrets.length > 1 ? 'those Secrets' : 'that Secret'} (type kubernetes.io/dockerconfigjson)`
              : 'give the pods an imagePullSecret with credentials for this registry') +
          end
        );
      case 'unreachable':
        return `${head}: the node cannot reach the registry (${lastCause(c.pull.detail)}); check the nodes' DNS, outbound network and trust of ${c.image.split('/')[0]}${end}`;
      case 'unknown':
        return `${head}: ${lastCause(c.pull.detail)}; fix what the message names${end}`;
      default:
        return (
          `${head}; the kubelet gave no more detail: check that this tag or digest exists in the registry and that the cluster may pull from it ` +
          `(AKS: 'az aks update ${where} --attach-acr <registry>', or an imagePullSecret)${end}`
        );
    }
  }

  const exec = each.find(({ c }) => c.execFormatError);
  if (exec) {
    const platform = exec.pod.nodePlatform;
    return (
      `${subject} failed: container ${exec.c.name} in pod ${exec.pod.name} cannot run its program: exec format error, the image is built for another architecture than ` +
      `${platform ? `node ${exec.pod.node} (${platform})` : `its node${exec.pod.node ? ` ${exec.pod.node}` : ''}`}; ` +
      `build with platforms ${platform ?? 'linux/amd64'} (input 'platforms')${end}`
    );
  }

  const crash = each.find(
    ({ c }) =>
      c.reason === 'CrashLoopBackOff' ||
      (c.state === 'terminated' && c.exitCode !== 0) ||
      c.lastTermination?.reason === 'OOMKilled',
  );
  if (crash) {
    const { c, pod } = crash;
    const t = c.state === 'terminated' ? { reason: c.reason, exitCode: c.exitCode } : c.lastTermination;
    const signal = signalOf(t?.exitCode);
    const figures = `(${t?.reason ?? 'exited'}, exit code ${t?.exitCode ?? '?'}${signal ? ` (${signal})` : ''}, ${c.restarts} restart${c.restarts === 1 ? '' : 's'})`;
    if (t?.reason === 'OOMKilled')
      return (
        `${subject} failed: container ${c.name} in pod ${pod.name} was killed for using more than its memory limit` +
        `${c.memoryLimit ? ` of ${c.memoryLimit}` : ''} ${figures}; raise resources.limits.memory or lower its use${end}`
      );
    const lastLine = [...(c.log ?? [])].reverse().find((l) => l.trim());
    const log = lastLine
      ? quoteLog
        ? `its log ends with "${lastLine.trim().slice(0, 200)}";`
        : 'its last log lines are in the job summary;'
      : `read its log (${c.logError ? 'the node served none here' : 'none was read'}) and`;
    const why =
      signal && signal !== 'SIGKILL'
        ? `it was ended by ${signal}; `
        : signal === 'SIGKILL'
          ? 'it was killed (SIGKILL, without OOMKilled: a failed liveness probe or the node); '
          : '';
    return (
      `${subject} failed: container ${c.name} in pod ${pod.name} keeps crashing ${figures}; ${why}${log} ` +
      `fix the start-up error (a missing environment variable, a wrong command, a crash at boot)${end}`
    );
  }

  const config = each.find(({ c }) => c.reason && configReasons.has(c.reason));
  if (config)
    return (
      `${subject} failed: container ${config.c.name} in pod ${config.pod.name} cannot be created (${config.c.reason}: ${config.c.message ?? ''}); ` +
      `create the ConfigMap or Secret it refers to, or fix the reference in the manifests${end}`
    );
  const unschedulable = d.pods.find((p) => p.unschedulable !== undefined);
  if (unschedulable)
    return (
      `${subject} failed: pod ${unschedulable.name} cannot be scheduled (${unschedulable.unschedulable}); ` +
      `lower the resource requests in the manifests, or add node capacity (scale the node pool)${end}`
    );
  const notReady = each.find(({ pod, c }) => c.state === 'running' && !c.ready && !pod.ready);
  if (notReady) {
    const { c, pod } = notReady;
    const running = seconds(c.runningSince, now);
    const head = `${subject} failed: container ${c.name} in pod ${pod.name} runs but never becomes ready`;
    if (!c.readinessProbe)
      return `${head}${running !== undefined ? ` in ${running}s of running` : ''}, though it has no readiness probe; read its log and the pod's conditions${end}`;
    const probe = `its readiness probe (${c.readinessProbe})`;
    if (c.probeFailure) {
      const f = c.probeFailure;
      const held = seconds(f.first, f.last);
      return (
        `${head}; ${probe} failed ${f.count} time${f.count === 1 ? '' : 's'}${held !== undefined ? ` over ${held}s` : ''} ` +
        `(${lastCause(f.detail, 200)}); make the endpoint answer 2xx once the app is up, or fix the probe's path and port${end}`
      );
    }
    return (
      `${head}; check ${probe}: it has not passed${running !== undefined ? ` in ${running}s of running` : ''} and the kubelet reported no probe failure, ` +
      `so compare its path and port with what the service listens on, and read its log${end}`
    );
  }
  if (d.pods.length === 0 && d.desired > 0) {
    const failedCreate = [...d.events].reverse().find((e) => e.reason === 'FailedCreate');
    return (
      `${subject} has no pods${d.replicaSet ? ` in ReplicaSet ${d.replicaSet}` : ''}` +
      (failedCreate
        ? `: ${failedCreate.message}; fix what the message names (quota, admission policy, service account)`
        : '; see the events below') +
      end
    );
  }
  if (d.healthy)
    return `${subject} is healthy: ${d.ready} of ${d.desired} pods ready (${images.join(', ')}).`;
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return `${subject} failed: no progress within its deadline (${progressing.message ?? ''}); see the pods and events below${end}`;
  return `${subject} is not ready yet: ${d.ready} of ${d.desired} pods ready; see the pods and events below${end}`;
}

/** Plain lines for the job log. */
export function diagnosisLines(d: Diagnosis): string[] {
  const lines = [
    d.summary,
    `Deployment ${d.deployment} in namespace ${d.namespace}, revision ${d.revision}${d.replicaSet ? `, ReplicaSet ${d.replicaSet}` : ''}: ${d.ready} of ${d.desired} pods ready`,
  ];
  for (const p of d.pods) {
    lines.push(
      `  pod ${p.name}: ${p.phase}${p.ready ? ', ready' : ', not ready'}${p.node ? ` on ${p.node}` : ''}${p.nodePlatform ? ` (${p.nodePlatform})` : ''}`,
    );
    if (p.unschedulable !== undefined) lines.push(`    unschedulable: ${p.unschedulable}`);
    for (const c of p.containers) {
      lines.push(`    container ${c.name} (${c.image}): ${containerState(c)}`);
      if (c.log) for (const l of c.log) lines.push(`      | ${l}`);
      else if (c.logError) lines.push(`      (no log: ${c.logError})`);
    }
  }
  if (d.changes.length > 0) {
    lines.push(`  what changed from revision ${d.previousRevision}:`);
    for (const c of d.changes) lines.push(`    ${c.field}: ${c.before} -> ${c.after}`);
  }
  if (d.events.length > 0) lines.push('  events:');
  for (const e of d.events)
    lines.push(
      `    ${e.last} ${e.type} ${e.reason} ${e.object}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`,
    );
  return lines;
}
