import type { V1Container, V1ContainerStatus, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describeProbe, templateDiff } from '../manifests/template-diff.js';
import { imagesOf, newReplicaSet, podTemplateHashLabel, revisionOf } from '../rollout/deployment.js';
import { classifyPull, execFormatError, parseProbeFailure } from './kubelet-messages.js';
import { summarize } from './sentence.js';
import {
  type ContainerDiagnosis,
  type DiagnoseOptions,
  type Diagnosis,
  type DiagnosisInput,
  type EventLine,
  type PodDiagnosis,
  pullReasons,
} from './types.js';

// What was read, turned into the diagnosis with no cluster calls, so that the kubelet's real shapes
// (every reason and message it writes) are tested on recorded objects.

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

/** The containers whose log says why: those that ran and failed, or run without becoming ready. */
export function wantsLog(c: ContainerDiagnosis): boolean {
  if (c.reason && pullReasons.has(c.reason)) return false; // never started: no log to read
  return (
    c.restarts > 0 ||
    c.state === 'terminated' ||
    (c.state === 'running' && !c.ready) ||
    c.reason === 'CrashLoopBackOff'
  );
}
