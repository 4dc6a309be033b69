import { containerState } from '../../util/container-state.js';
import { acrName, lastCause, signalOf } from './kubelet-messages.js';
import {
  type ContainerDiagnosis,
  configReasons,
  type DiagnoseOptions,
  type Diagnosis,
  type PodDiagnosis,
  pullReasons,
  seconds,
} from './types.js';

// The diagnosis in words: one sentence that says what failed, why, the fix and what serves now, and the
// plain lines of the job log.

/** The one sentence; quoteLog false leaves out what the pods wrote (for places anyone can read). */
export function summarize(
  d: Diagnosis,
  images: string[],
  progressing: { reason?: string; message?: string } | undefined,
  options: DiagnoseOptions,
  now: Date,
  quoteLog: boolean,
): string {
  const subject = `Deployment ${d.deployment} revision ${d.revision}`;
  const end = `; ${d.serving}.`;
  const each = d.pods.flatMap((pod) => pod.containers.map((c) => ({ pod, c })));

  const pull = each.find(({ c }) => c.reason && pullReasons.has(c.reason));
  if (pull) return pullSentence(subject, pull, options, end);

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
  if (crash) return crashSentence(subject, crash, quoteLog, end);

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

/** A container of a pod, the one a sentence is about. */
interface Failing {
  pod: PodDiagnosis;
  c: ContainerDiagnosis;
}

/** A container whose image cannot be pulled: what the registry or the runtime said, and the fix. */
function pullSentence(subject: string, pull: Failing, options: DiagnoseOptions, end: string): string {
  const where = options.aks
    ? `--resource-group ${options.aks.resourceGroup} --name ${options.aks.clusterName}`
    : '--resource-group <resource-group> --name <cluster>';
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

/** A container that crashes, exits non-zero or was killed for memory: its figures, the cause and the fix. */
function crashSentence(subject: string, crash: Failing, quoteLog: boolean, end: string): string {
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
    : c.logError?.startsWith('withheld')
      ? `read its log (${c.logError}) and`
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
