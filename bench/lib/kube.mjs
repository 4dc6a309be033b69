// The benchmark's own view of the cluster: namespaces, and watches that stamp every Deployment and Pod
// event with the benchmark's clock, independently of the action under test.
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { now, sleep } from './clock.mjs';

export function kubeconfig() {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG);
  return kc;
}

export const kubeconfigText = () => readFileSync(process.env.KUBECONFIG, 'utf8');

export async function deleteNamespace(kc, name, waitMs = 60_000) {
  const api = kc.makeApiClient(CoreV1Api);
  try {
    await api.deleteNamespace({ name });
  } catch (error) {
    if (error?.code !== 404) throw error;
    return;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    try {
      await api.readNamespace({ name });
    } catch (error) {
      if (error?.code === 404) return;
    }
    await sleep(500);
  }
}

/**
 * The pause after a namespace settled, before the next measured deploy. kube-controller-manager's clients
 * send at most 20 requests/s in bursts of 30 (--kube-api-qps, --kube-api-burst), and one 2-replica rollout
 * takes most of a burst: a rollout begun within a second of the last one waits ~100 ms per request for
 * what that one left (its log says "client-side throttling"), which charged one tool for the one before.
 * 30 tokens come back in 1.5 s.
 */
const QUIET_MS = 2000;

/**
 * Waits until the namespace has exactly `count` pods and none is terminating (old pods gone), at most 60 s,
 * then QUIET_MS, so that every measured deploy starts on a cluster whose controllers are not still paying
 * for the previous one.
 */
export async function settle(kc, namespace, count) {
  const api = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 240; i++) {
    const pods = (await api.listNamespacedPod({ namespace })).items;
    if (pods.length === count && pods.every((p) => !p.metadata?.deletionTimestamp)) {
      await sleep(QUIET_MS);
      return;
    }
    await sleep(250);
  }
  throw new Error(`namespace ${namespace} did not settle at ${count} pods within 60 s`);
}

const complete = (d) => {
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  return (
    (s.observedGeneration ?? -1) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
};

/** Records every event of the Deployments and Pods of a namespace, stamped on arrival. */
export class NamespaceRecorder {
  constructor(kc, namespace) {
    this.kc = kc;
    this.namespace = namespace;
    this.deployments = [];
    this.pods = [];
    this.sets = [];
    this.controllers = [];
    this.stopped = false;
  }

  async start() {
    await Promise.all([
      this.watch(`/apis/apps/v1/namespaces/${this.namespace}/deployments`, (type, d) =>
        this.deployments.push({
          t: now(),
          type,
          name: d.metadata?.name,
          generation: d.metadata?.generation ?? 0,
          revision: Number(d.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
          complete: complete(d),
        }),
      ),
      this.watch(`/apis/apps/v1/namespaces/${this.namespace}/replicasets`, (type, r) =>
        this.sets.push({
          t: now(),
          type,
          hash: r.metadata?.labels?.['pod-template-hash'],
          replicas: r.spec?.replicas ?? 0,
          available: r.status?.availableReplicas ?? 0,
        }),
      ),
      this.watch(`/api/v1/namespaces/${this.namespace}/pods`, (type, p) => {
        const waiting = (p.status?.containerStatuses ?? [])
          .map((c) => c.state?.waiting?.reason)
          .filter(Boolean);
        this.pods.push({
          t: now(),
          type,
          name: p.metadata?.name,
          hash: p.metadata?.labels?.['pod-template-hash'],
          waiting,
          scheduled: Boolean(p.spec?.nodeName),
          ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
          deleting: Boolean(p.metadata?.deletionTimestamp),
        });
      }),
    ]);
  }

  // Each watch is bounded: the server ends it after timeoutSeconds, and it is resumed at most 20 times.
  async watch(path, onEvent, resumes = 20) {
    if (this.stopped || resumes < 0) return;
    const watch = new Watch(this.kc);
    const controller = await watch.watch(
      path,
      { timeoutSeconds: 300, allowWatchBookmarks: false },
      (type, object) => {
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') onEvent(type, object);
      },
      () => {
        if (!this.stopped) setTimeout(() => this.watch(path, onEvent, resumes - 1), 100);
      },
    );
    this.controllers.push(controller);
    // the watch is open once the server sent its headers; a short pause lets the initial ADDED arrive
    await sleep(200);
  }

  stop() {
    this.stopped = true;
    for (const c of this.controllers) c.abort();
  }

  mark() {
    return { deployments: this.deployments.length, pods: this.pods.length, sets: this.sets.length };
  }

  /** After mark: the first event of Deployment `name` whose generation is above `generation`. */
  changed(mark, name, generation) {
    return this.deployments.slice(mark.deployments).find((e) => e.name === name && e.generation > generation);
  }

  /** After mark: the first event where Deployment `name` is complete at generation >= `generation`. */
  completed(mark, name, generation) {
    return this.deployments
      .slice(mark.deployments)
      .find((e) => e.name === name && e.generation >= generation && e.complete);
  }

  /** After mark: the first pod event showing one of the waiting reasons. */
  podShowing(mark, reasons) {
    return this.pods.slice(mark.pods).find((e) => e.waiting.some((r) => reasons.includes(r)));
  }

  /**
   * After mark: when each step of a rolling update of 2 replicas was seen, in ms after the Deployment
   * changed. The new template's pods are those whose hash no pod had before the mark; old pods are the others.
   */
  phases(mark, changedAt) {
    const before = new Set(this.pods.slice(0, mark.pods).map((e) => e.hash));
    const pods = this.pods.slice(mark.pods);
    const sets = this.sets.slice(mark.sets);
    const at = (events, pred) => {
      const e = events.find(pred);
      return e ? Math.round(e.t - changedAt) : Number.NaN;
    };
    const names = (pred) => [...new Set(pods.filter(pred).map((e) => e.name))].slice(0, 2);
    const out = {};
    names((e) => !before.has(e.hash)).forEach((name, i) => {
      out[`pod${i + 1}Added`] = at(pods, (e) => e.name === name);
      out[`pod${i + 1}Scheduled`] = at(pods, (e) => e.name === name && e.scheduled);
      out[`pod${i + 1}Ready`] = at(pods, (e) => e.name === name && e.ready);
    });
    const newHash = pods.find((e) => !before.has(e.hash))?.hash;
    out.newAvailable2 = at(sets, (e) => e.hash === newHash && e.available >= 2);
    out.oldScaled0 = at(sets, (e) => before.has(e.hash) && e.replicas === 0);
    names((e) => before.has(e.hash) && e.deleting).forEach((name, i) => {
      out[`old${i + 1}Deleting`] = at(pods, (e) => e.name === name && e.deleting);
    });
    return out;
  }

  generationOf(name) {
    const last = [...this.deployments].reverse().find((e) => e.name === name);
    return last?.generation ?? 0;
  }
}
