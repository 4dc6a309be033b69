import * as core from '@actions/core';
import type { Credentials } from '../credentials.js';
import type { Cluster } from '../kube/client/client.js';
import { listByKind } from '../kube/client/list.js';
import { deleteNamespacesAndWait, type Namespace, readNamespace } from '../kube/client/namespace.js';
import { lockEnvironment } from '../kube/release/lock.js';
import { managedBy, managedByLabel, previewNamespace, prLabel } from '../names.js';
import { thisRun } from '../runner.js';
import type { Settings } from '../settings.js';
import { Timings } from '../util/timings.js';

// A closed pull request's preview: wait for a deploy still running there (the environment's lock), delete
// its namespace (and so everything in it), and wait until the namespace is gone, so that a reopened pull
// request can deploy again at once.

export interface TeardownResult {
  environment: string;
  pr: number;
  namespace: string;
  /** false when there was no namespace to delete (already torn down, or never deployed) */
  found: boolean;
  /** what the namespace held that this action deploys, as Kind/name */
  objects: string[];
  timings: Timings['steps'];
}

export async function teardown(
  settings: Settings,
  credentials: Credentials,
  pr: number,
): Promise<TeardownResult> {
  const timings = new Timings();
  const namespace = previewNamespace(settings.appName, pr);
  const result: TeardownResult = {
    environment: `pr-${pr}`,
    pr,
    namespace,
    found: false,
    objects: [],
    timings: timings.steps,
  };
  const cluster = await timings.step('cluster credentials', () => credentials.cluster());
  const live = await timings.step(`read namespace ${namespace}`, () => readNamespace(cluster, namespace));
  if (!live) {
    core.info(`namespace ${namespace} does not exist: nothing to delete`);
    return result;
  }
  checkOwned(live, namespace, pr);
  result.found = true;
  result.objects = await timings.step(`list what ${namespace} holds`, async () => {
    const objects = await contents(cluster, namespace);
    core.info(
      `namespace ${namespace} holds ${objects.join(', ') || 'none of the kinds this action deploys'}`,
    );
    return objects;
  });
  // a deploy of the pull request's last push may still be applying: it finishes first
  const lock = await timings.step(`lock ${namespace}`, () =>
    lockEnvironment(cluster, {
      run: thisRun(),
      namespace,
      instance: namespace,
      rolloutTimeoutMs: settings.rolloutTimeoutMs,
      purpose: 'teardown',
    }),
  );
  // the Lease goes with the namespace
  lock.forget();
  await timings.step(`delete namespace ${namespace}`, () =>
    deleteNamespacesAndWait(cluster, [namespace], settings.rolloutTimeoutMs),
  );
  return result;
}

/** Only a namespace this action made for this pull request is deleted. */
function checkOwned(live: Namespace, namespace: string, pr: number): void {
  const labels = live.metadata?.labels ?? {};
  if (labels[managedByLabel] !== managedBy)
    throw new Error(
      `namespace '${namespace}' is not labelled ${managedByLabel}=${managedBy}: this action did not create it, so the teardown leaves it alone; delete it yourself if it is a leftover`,
    );
  if (labels[prLabel] !== undefined && labels[prLabel] !== String(pr))
    throw new Error(
      `namespace '${namespace}' belongs to pull request #${labels[prLabel]} (label ${prLabel}), not #${pr}; nothing was deleted`,
    );
}

/** Every object of a kind this action deploys in the namespace, as Kind/name. */
async function contents(cluster: Cluster, namespace: string): Promise<string[]> {
  const lists = await listByKind(cluster, namespace);
  return lists.flatMap(({ kind, items }) => items.map((item) => `${kind}/${item.metadata?.name ?? '?'}`));
}
