import type { CoreV1Event, V1Node, V1Pod } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import { selectorString } from '../manifests/selector.js';
import { readDeployment, replicaSetsOf } from '../rollout/deployment.js';
import { buildDiagnosis, wantsLog } from './model.js';
import type { DiagnoseOptions, Diagnosis, DiagnosisInput } from './types.js';

// After a failed rollout: what each pod of the newest ReplicaSet says, the recent events, the failing
// container's log where the node serves one, what changed since the previous revision, and one sentence
// saying what failed, why, the fix, and which revision is serving now. Four steps, a module each: the
// cluster is read here (diagnose()); diagnosis-model.ts builds the diagnosis from what was read, with no
// calls, so that the kubelet's real shapes (every reason and message it writes) are tested on recorded
// objects; diagnosis-sentence.ts puts it into words; github/diagnosis-markdown.ts renders it.

export { buildDiagnosis } from './model.js';
export { diagnosisLines } from './sentence.js';
export type {
  ContainerDiagnosis,
  DiagnoseOptions,
  Diagnosis,
  DiagnosisInput,
  EventLine,
  PodDiagnosis,
} from './types.js';

/** Reads the Deployment, its ReplicaSets, pods, events, the failing containers' logs and nodes. */
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
      if (options.withholdLogs) {
        input.logs?.set(`${pod.name}/${c.name}`, { error: options.withholdLogs });
        continue;
      }
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
