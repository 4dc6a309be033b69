import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { preDeployAnnotation } from '../../names.js';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import { selectorString } from '../manifests/selector.js';
import { trackWorkload, type WorkloadTrackOptions } from './track-workload.js';

// Pre-deploy objects (a database migration Job and what it reads) are written before the rest of the set,
// and their Jobs run to completion first: a failed migration stops the deploy with its log, before the new
// app could meet an old schema. Like Helm's hooks, they belong to the deploy that ran them: a restore does
// not run them again.

export function isPreDeploy(object: KubernetesObject): boolean {
  return object.metadata?.annotations?.[preDeployAnnotation] === 'true';
}

/** A pre-deploy Job that did not complete: nothing but the pre-deploy objects was written. */
export class PreDeployFailure extends Error {
  constructor(
    message: string,
    readonly job: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PreDeployFailure';
  }
}

/** Waits for each pre-deploy Job of the set, in manifest order; a failure throws with the Job's logs. */
export async function runPreDeployJobs(
  cluster: Cluster,
  namespace: string,
  objects: KubernetesObject[],
  options: WorkloadTrackOptions & { log: (line: string) => void; withholdLogs?: string },
): Promise<void> {
  for (const job of objects.filter((o) => o.kind === 'Job' && isPreDeploy(o))) {
    const name = job.metadata?.name ?? '';
    try {
      const done = await trackWorkload(cluster, namespace, 'Job', name, options);
      options.log(`pre-deploy Job/${name} complete in ${(done.elapsedMs / 1000).toFixed(1)} s`);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const logs = await jobLogs(cluster, namespace, name, 20, options.withholdLogs).catch(
        (e: unknown) => `\n  (its logs could not be read: ${errorText(e)})`,
      );
      throw new PreDeployFailure(
        `pre-deploy Job/${name} did not complete: ${errorText(error)}${logs}`,
        name,
        {
          cause: error,
        },
      );
    }
  }
}

/** The last lines of the Job's pods (newest first, at most two), as an indented block. */
export async function jobLogs(
  cluster: Cluster,
  namespace: string,
  name: string,
  lines = 20,
  withhold = '',
): Promise<string> {
  if (withhold) return `\n  (its logs: ${withhold})`;
  const job = await cluster.request<V1Job>('GET', `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`);
  const selector = selectorString(job.spec?.selector);
  if (!selector) return '';
  const pods = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: selector },
  });
  const newest = [...pods.items]
    .sort((a, b) =>
      String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)),
    )
    .slice(0, 2);
  const blocks: string[] = [];
  for (const pod of newest)
    for (const c of pod.status?.containerStatuses ?? []) {
      const previous = (c.restartCount ?? 0) > 0 && !c.state?.terminated;
      const text = await cluster
        .request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${pod.metadata?.name}/log`, {
          query: { container: c.name, tailLines: lines, previous },
          text: true,
          timeoutMs: 5_000,
        })
        .then((t) => t.trimEnd() || '(empty)')
        .catch((e: unknown) => `(no log: ${errorText(e).split('\n')[0]})`);
      blocks.push(
        `\n  log of pod ${pod.metadata?.name}, container ${c.name}:\n${text
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}`,
      );
    }
  return blocks.join('');
}
