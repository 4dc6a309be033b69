import * as core from '@actions/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Credentials } from '../credentials.js';
import { type Cluster, isNotFound } from '../kube/client/client.js';
import { prunableKinds } from '../kube/kinds.js';
import { lockEnvironment } from '../kube/release/lock.js';
import { managedBy, managedByLabel, previewNamespace, prLabel } from '../names.js';
import { thisRun } from '../runner.js';
import type { Settings } from '../settings.js';
import { errorText } from '../util/errors.js';
import { poll } from '../util/retry.js';
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

const pollMs = 1_000;

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
    deleteNamespaces(cluster, [namespace], settings.rolloutTimeoutMs),
  );
  return result;
}

/** Deletes the namespaces and waits until all are gone, at most timeoutMs. */
export async function deleteNamespaces(cluster: Cluster, names: string[], timeoutMs: number): Promise<void> {
  for (const name of names) {
    try {
      await cluster.request('DELETE', `/api/v1/namespaces/${name}`, {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
    } catch (error) {
      if (!isNotFound(error)) throw new Error(`cannot delete namespace '${name}': ${errorText(error)}`);
    }
  }
  const started = Date.now();
  let left = [...names];
  let still: { name: string; live: Namespace }[] = [];
  const gone = await poll(
    async () => {
      still = [];
      for (const name of left) {
        const live = await readNamespace(cluster, name);
        if (live) still.push({ name, live });
      }
      for (const name of left)
        if (!still.some((s) => s.name === name))
          core.info(`namespace ${name} is gone (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      left = still.map((s) => s.name);
      return left.length === 0 || undefined;
    },
    { timeoutMs, intervalMs: pollMs },
  );
  if (!gone)
    throw new Error(
      `namespace(s) still being deleted after ${Math.round(timeoutMs / 1000)}s (input rollout-timeout): ` +
        `${still.map((s) => `${s.name} (${blocking(s.live)})`).join('; ')}; ` +
        'the deletion goes on in the cluster: look for finalizers that nothing removes, then run the teardown again',
    );
}

export interface Namespace {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  status?: { phase?: string; conditions?: { type?: string; status?: string; message?: string }[] };
}

export async function readNamespace(cluster: Cluster, name: string): Promise<Namespace | undefined> {
  try {
    return await cluster.request<Namespace>('GET', `/api/v1/namespaces/${name}`);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new Error(`cannot read namespace '${name}': ${errorText(error)}`);
  }
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

async function contents(cluster: Cluster, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const { apiVersion, kind } of prunableKinds) {
    if (!(await cluster.resource(apiVersion, kind))) continue;
    const list = await cluster.request<{ items: KubernetesObject[] }>(
      'GET',
      await cluster.pathOf(apiVersion, kind, namespace),
    );
    for (const item of list.items) found.push(`${kind}/${item.metadata?.name ?? '?'}`);
  }
  return found;
}

/** Why a namespace is still there: the conditions the namespace controller sets while it deletes. */
function blocking(ns: Namespace): string {
  const reasons = (ns.status?.conditions ?? [])
    .filter((c) => c.status === 'True' && c.message)
    .map((c) => `${c.type}: ${c.message}`);
  return reasons.join('; ') || `phase ${ns.status?.phase ?? 'unknown'}`;
}
