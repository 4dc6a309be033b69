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

/** Waits until the namespace has exactly `count` pods and none is terminating (old pods gone), at most 60 s. */
export async function settle(kc, namespace, count) {
  const api = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 240; i++) {
    const pods = (await api.listNamespacedPod({ namespace })).items;
    if (pods.length === count && pods.every((p) => !p.metadata?.deletionTimestamp)) return;
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
    return { deployments: this.deployments.length, pods: this.pods.length };
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

  generationOf(name) {
    const last = [...this.deployments].reverse().find((e) => e.name === name);
    return last?.generation ?? 0;
  }
}
