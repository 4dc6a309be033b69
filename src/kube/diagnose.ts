import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { type Cluster, errorText } from './client.js';
import {
  imagesOf,
  newReplicaSet,
  podTemplateHashLabel,
  readDeployment,
  replicaSetsOf,
  revisionOf,
  selectorString,
} from './deployment.js';

// After a failed rollout: what each pod of the newest ReplicaSet says, the recent events, the failing
// container's log where the node serves one, and one sentence saying what failed, why, and the fix.

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
}

export interface PodDiagnosis {
  name: string;
  phase: string;
  node?: string;
  ready: boolean;
  /** the scheduler's message when the pod cannot be placed */
  unschedulable?: string;
  containers: ContainerDiagnosis[];
}

export interface EventLine {
  object: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  last: string;
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
  /** one sentence: what failed, why, and the fix */
  summary: string;
}

export interface DiagnoseOptions {
  logLines?: number;
  maxEvents?: number;
  /** at most this many containers' logs are fetched */
  maxLogs?: number;
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
  const newest =
    newReplicaSet(deployment, replicaSets) ??
    [...replicaSets].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  const hash = newest?.metadata?.labels?.[podTemplateHashLabel];
  const podList = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: selectorString(deployment.spec?.selector) },
  });
  const pods = podList.items
    .filter((p) => !hash || p.metadata?.labels?.[podTemplateHashLabel] === hash)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));

  const podDiagnoses = pods.map(describePod);
  let logsLeft = options.maxLogs ?? 3;
  for (const [i, pod] of podDiagnoses.entries()) {
    for (const c of pod.containers) {
      if (logsLeft <= 0 || !wantsLog(c)) continue;
      logsLeft -= 1;
      const previous = c.restarts > 0 && c.state !== 'running';
      try {
        const text = await cluster.request<string>(
          'GET',
          `/api/v1/namespaces/${namespace}/pods/${pods[i]?.metadata?.name}/log`,
          {
            query: { container: c.name, tailLines: options.logLines ?? 20, previous },
            text: true,
            timeoutMs: 5_000,
          },
        );
        c.log = text.split('\n').filter((line, j, all) => line !== '' || j < all.length - 1);
      } catch (error) {
        c.logError = errorText(error).split('\n')[0];
      }
    }
  }

  const uids = new Map<string, string>();
  uids.set(deployment.metadata?.uid ?? '', `Deployment/${name}`);
  for (const rs of replicaSets) uids.set(rs.metadata?.uid ?? '', `ReplicaSet/${rs.metadata?.name}`);
  for (const p of pods) uids.set(p.metadata?.uid ?? '', `Pod/${p.metadata?.name}`);
  const eventList = await cluster.request<{ items: CoreV1Event[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/events`,
  );
  const events = eventList.items
    .filter((e) => uids.has(e.involvedObject?.uid ?? ''))
    .map((e) => ({
      object: uids.get(e.involvedObject?.uid ?? '') ?? '',
      type: e.type ?? '',
      reason: e.reason ?? '',
      message: (e.message ?? '').trim(),
      count: e.count ?? e.series?.count ?? 1,
      last: String(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? ''),
    }))
    .sort((a, b) => new Date(a.last).getTime() - new Date(b.last).getTime())
    .slice(-(options.maxEvents ?? 20));

  const desired = deployment.spec?.replicas ?? 1;
  const ready = podDiagnoses.filter((p) => p.ready).length;
  const diagnosis: Diagnosis = {
    namespace,
    deployment: name,
    revision: revisionOf(deployment),
    ...(newest?.metadata?.name ? { replicaSet: newest.metadata.name } : {}),
    desired,
    ready,
    healthy: ready >= desired && podDiagnoses.length >= desired,
    pods: podDiagnoses,
    events,
    summary: '',
  };
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  diagnosis.summary = summarize(diagnosis, imagesOf(deployment.spec?.template), progressing);
  return diagnosis;
}

function describePod(pod: V1Pod): PodDiagnosis {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const statuses = new Map<string, V1ContainerStatus>(
    [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [
      s.name,
      s,
    ]),
  );
  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ready,
    ...(scheduled?.status === 'False' ? { unschedulable: scheduled.message ?? scheduled.reason ?? '' } : {}),
    containers: specs.map((spec) => describeContainer(spec.name, spec.image ?? '', statuses.get(spec.name))),
  };
}

function describeContainer(
  name: string,
  image: string,
  s: V1ContainerStatus | undefined,
): ContainerDiagnosis {
  const base = { name, image, ready: s?.ready ?? false, restarts: s?.restartCount ?? 0 };
  const last = s?.lastState?.terminated;
  const lastTermination = last
    ? { lastTermination: { reason: last.reason, exitCode: last.exitCode, message: last.message } }
    : {};
  if (s?.state?.waiting)
    return {
      ...base,
      state: 'waiting',
      reason: s.state.waiting.reason,
      message: s.state.waiting.message,
      ...lastTermination,
    };
  if (s?.state?.terminated)
    return {
      ...base,
      state: 'terminated',
      reason: s.state.terminated.reason,
      message: s.state.terminated.message,
      exitCode: s.state.terminated.exitCode,
      ...lastTermination,
    };
  if (s?.state?.running) return { ...base, state: 'running', ...lastTermination };
  return { ...base, state: 'unknown' };
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

function summarize(
  d: Diagnosis,
  images: string[],
  progressing: { reason?: string; message?: string } | undefined,
): string {
  const subject = `Deployment ${d.deployment} revision ${d.revision}`;
  const each = d.pods.flatMap((pod) => pod.containers.map((c) => ({ pod, c })));
  const pull = each.find(({ c }) => c.reason && pullReasons.has(c.reason));
  if (pull)
    return (
      `${subject} failed: pod ${pull.pod.name} cannot pull image ${pull.c.image} (${pull.c.reason}${pull.c.message ? `: ${pull.c.message}` : ''}); ` +
      `check that this tag or digest exists in the registry and that the cluster may pull from it (AKS: attach the ACR to the cluster, or add an imagePullSecret).`
    );
  const crash = each.find(
    ({ c }) =>
      c.reason === 'CrashLoopBackOff' ||
      (c.state === 'terminated' && c.exitCode !== 0) ||
      c.lastTermination?.reason === 'OOMKilled',
  );
  if (crash) {
    const t = crash.c.state === 'terminated' ? crash.c : crash.c.lastTermination;
    const oom = t?.reason === 'OOMKilled';
    return (
      `${subject} failed: container ${crash.c.name} in pod ${crash.pod.name} keeps crashing ` +
      `(${t?.reason ?? 'exited'}, exit code ${t?.exitCode ?? '?'}, ${crash.c.restarts} restarts); ` +
      (oom
        ? 'it ran out of memory: raise its memory limit or lower its use.'
        : `${crash.c.log?.length ? 'read its log below' : 'read its log (the cluster gave none here)'} and fix the start-up error (a missing environment variable, a wrong command, a crash at boot).`)
    );
  }
  const config = each.find(({ c }) => c.reason && configReasons.has(c.reason));
  if (config)
    return (
      `${subject} failed: container ${config.c.name} in pod ${config.pod.name} cannot be created (${config.c.reason}: ${config.c.message ?? ''}); ` +
      'create the ConfigMap or Secret it refers to, or fix the reference in the manifests.'
    );
  const unschedulable = d.pods.find((p) => p.unschedulable !== undefined);
  if (unschedulable)
    return (
      `${subject} failed: pod ${unschedulable.name} cannot be scheduled (${unschedulable.unschedulable}); ` +
      'lower the resource requests in the manifests, or add node capacity (scale the node pool).'
    );
  const notReady = each.find(({ pod, c }) => c.state === 'running' && !c.ready && !pod.ready);
  if (notReady)
    return (
      `${subject} failed: container ${notReady.c.name} in pod ${notReady.pod.name} runs but never becomes ready; ` +
      'check its readiness probe (path and port must match what the service listens on) and its log.'
    );
  if (d.pods.length === 0 && d.desired > 0) {
    const failedCreate = [...d.events].reverse().find((e) => e.reason === 'FailedCreate');
    return (
      `${subject} has no pods${d.replicaSet ? ` in ReplicaSet ${d.replicaSet}` : ''}` +
      (failedCreate
        ? `: ${failedCreate.message}; fix what the message names (quota, admission policy, service account).`
        : '; see the events below.')
    );
  }
  if (d.healthy)
    return `${subject} is healthy: ${d.ready} of ${d.desired} pods ready (${images.join(', ')}).`;
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return `${subject} failed: no progress within its deadline (${progressing.message ?? ''}); see the pods and events below.`;
  return `${subject} is not ready yet: ${d.ready} of ${d.desired} pods ready; see the pods and events below.`;
}

/** Plain lines for the job log. */
export function diagnosisLines(d: Diagnosis): string[] {
  const lines = [
    d.summary,
    `Deployment ${d.deployment} in namespace ${d.namespace}, revision ${d.revision}${d.replicaSet ? `, ReplicaSet ${d.replicaSet}` : ''}: ${d.ready} of ${d.desired} pods ready`,
  ];
  for (const p of d.pods) {
    lines.push(
      `  pod ${p.name}: ${p.phase}${p.ready ? ', ready' : ', not ready'}${p.node ? ` on ${p.node}` : ''}`,
    );
    if (p.unschedulable !== undefined) lines.push(`    unschedulable: ${p.unschedulable}`);
    for (const c of p.containers) {
      lines.push(`    container ${c.name} (${c.image}): ${containerState(c)}`);
      if (c.log) for (const l of c.log) lines.push(`      | ${l}`);
      else if (c.logError) lines.push(`      (no log: ${c.logError})`);
    }
  }
  if (d.events.length > 0) lines.push('  events:');
  for (const e of d.events)
    lines.push(
      `    ${e.last} ${e.type} ${e.reason} ${e.object}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`,
    );
  return lines;
}

/** Markdown for the job summary. */
export function diagnosisMarkdown(d: Diagnosis): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out = [`**${cell(d.summary)}**`, ''];
  if (d.pods.length > 0) {
    out.push(
      '| Pod | Phase | Ready | Container | State | Restarts |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const p of d.pods)
      for (const c of p.containers)
        out.push(
          `| ${cell(p.name)} | ${cell(p.phase)}${p.unschedulable !== undefined ? ` (unschedulable: ${cell(p.unschedulable)})` : ''} | ${p.ready ? 'yes' : 'no'} | ${cell(c.name)} | ${cell(containerState(c))} | ${c.restarts} |`,
        );
    out.push('');
  }
  for (const p of d.pods)
    for (const c of p.containers)
      if (c.log && c.log.length > 0)
        out.push(
          `<details><summary>Log of ${cell(p.name)} / ${cell(c.name)}</summary>`,
          '',
          '```text',
          ...c.log.map((l) => l.replace(/```/g, "'''")),
          '```',
          '</details>',
          '',
        );
  if (d.events.length > 0) {
    out.push('| When | Type | Reason | Object | Message |', '| --- | --- | --- | --- | --- |');
    for (const e of d.events)
      out.push(
        `| ${cell(e.last)} | ${cell(e.type)} | ${cell(e.reason)} | ${cell(e.object)} | ${cell(e.message)}${e.count > 1 ? ` (x${e.count})` : ''} |`,
      );
  }
  return out.join('\n');
}

function containerState(c: ContainerDiagnosis): string {
  const parts: string[] = [c.state];
  if (c.reason) parts.push(c.reason);
  if (c.exitCode !== undefined) parts.push(`exit code ${c.exitCode}`);
  if (c.message) parts.push(c.message);
  if (c.lastTermination)
    parts.push(`last exit: ${c.lastTermination.reason ?? '?'} code ${c.lastTermination.exitCode ?? '?'}`);
  if (c.state === 'running') parts.push(c.ready ? 'ready' : 'not ready');
  return parts.join(', ');
}
