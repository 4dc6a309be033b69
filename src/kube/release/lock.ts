import { hostname } from 'node:os';
import * as core from '@actions/core';
import { instanceLabel, lockName, lockNotes, managedBy, managedByLabel } from '../../names.js';
import type { DeployOrder, RunIdentity } from '../../runner.js';
import { errorText } from '../../util/errors.js';
import { poll } from '../../util/retry.js';
import { type Cluster, KubeApiError } from '../client/client.js';
import { instanceSelector, listByKind } from '../client/list.js';
import {
  createNamespaceIfMissing,
  deleteNamespace,
  namespaceExists,
  readNamespace,
} from '../client/namespace.js';

// One run at a time per environment (deploy, rollback, teardown, sweep), and never an older commit over a
// newer one. A coordination.k8s.io
// Lease in the environment's namespace is held while the set is applied and its rollout tracked (renewed,
// so that a run that dies frees it after leaseSeconds); on it, the run that took it last: a run of the same
// workflow with a lower run number (an older commit's run that got its turn second, or a re-run of an old
// run) is refused as superseded instead of overwriting the newer deploy.

export interface LockOptions {
  namespace: string;
  /** app.kubernetes.io/instance of the environment: names the Lease */
  instance: string;
  /** the run taking the lock (runner.ts): names the holder; a deploy's commit and order are recorded */
  run: RunIdentity;
  /** input rollout-timeout: the holder applies, tracks and may roll back, so twice this plus a minute is waited */
  rolloutTimeoutMs: number;
  leaseSeconds?: number;
  pollMs?: number;
  /** overrides the wait derived from rolloutTimeoutMs */
  waitMs?: number;
  /** the first reads, issued ahead (readLock) while the run had other things to wait for */
  reads?: LockReads;
  /**
   * What takes the lock. A deploy makes the namespace when missing and is ordered by run number; a
   * rollback, teardown or sweep needs the namespace to exist and is not ordered (it records no commit).
   */
  purpose?: 'deploy' | 'rollback' | 'teardown' | 'sweep';
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const note = lockNotes;

const leasesOf = (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;

/** What taking the lock reads first: the Lease, and whether its namespace is there (no write). */
export interface LockReads {
  lease: Promise<Lease | undefined>;
  namespaceExists: Promise<boolean>;
}

/** Starts the reads a deploy's lock begins with; a stale answer only costs the lock a second pass. */
export function readLock(cluster: Cluster, namespace: string, instance: string): LockReads {
  const reads = {
    lease: readLease(cluster, `${leasesOf(namespace)}/${lockName(instance)}`),
    namespaceExists: namespaceExists(cluster, namespace),
  };
  // whoever takes the lock awaits them, or drops them (a build ran meanwhile: read again)
  reads.lease.catch(() => undefined);
  reads.namespaceExists.catch(() => undefined);
  return reads;
}

/** Takes the environment's deploy lock (waiting, bounded, for another deploy to finish); `await using` it. */
export async function lockEnvironment(cluster: Cluster, options: LockOptions): Promise<DeployLock> {
  const leaseSeconds = options.leaseSeconds ?? 60;
  const pollMs = options.pollMs ?? 1_000;
  const waitMs = options.waitMs ?? 2 * options.rolloutTimeoutMs + 60_000;
  const purpose = options.purpose ?? 'deploy';
  const sha = options.run.sha;
  const order = purpose === 'deploy' ? options.run.order : undefined;
  const name = lockName(options.instance);
  const path = leasesOf(options.namespace);
  const me = `${purpose === 'deploy' ? '' : `${purpose} `}run ${options.run.id} ${sha.slice(0, 7)} ${hostname()}/${process.pid}`;
  const where = `namespace '${options.namespace}' (Lease ${name})`;
  // the lease is read with the namespace (the first pass uses that read unless the namespace was just made)
  let prefetched: Promise<Lease | undefined> | undefined =
    options.reads?.lease ?? readLease(cluster, `${path}/${name}`);
  prefetched.catch(() => undefined);
  const createdNamespace =
    (await options.reads?.namespaceExists) === true
      ? false
      : await namespaceOfLease(cluster, options.namespace, purpose);
  if (createdNamespace) prefetched = undefined;

  const started = Date.now();
  let announced = false;
  let seen = { version: '', since: started };
  let last: Lease | undefined;
  // each pass takes the lease, or reads who holds it and waits pollMs, within waitMs
  let passes = 0;
  const lock = await poll(
    async () => {
      passes++;
      const now = new Date();
      const lease = await (prefetched ?? readLease(cluster, `${path}/${name}`));
      prefetched = undefined;
      const desired = (previous?: Lease): Lease => ({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          ...previous?.metadata,
          name,
          labels: {
            ...previous?.metadata.labels,
            [managedByLabel]: managedBy,
            [instanceLabel]: options.instance,
          },
          // the record is of the last deploy with a place in its workflow's sequence: a local run leaves it
          annotations: {
            ...previous?.metadata.annotations,
            ...(order
              ? {
                  [note.sha]: sha,
                  [note.at]: now.toISOString(),
                  [note.workflow]: order.workflow,
                  [note.run]: String(order.run),
                }
              : {}),
          },
        },
        spec: {
          holderIdentity: me,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions:
            (previous?.spec?.leaseTransitions ?? 0) + (previous?.spec?.holderIdentity ? 1 : 0),
        },
      });

      if (lease?.metadata.resourceVersion !== seen.version)
        seen = { version: lease?.metadata.resourceVersion ?? '', since: Date.now() };
      const holder = lease?.spec?.holderIdentity;
      const expired = lease && holder ? expiredFor(lease, seen.since, now.getTime()) : undefined;
      if (!lease || !holder || holder === me || expired !== undefined) {
        if (lease) refuseIfSuperseded(lease, order, sha, where);
        let held: Lease;
        try {
          held = !lease
            ? await cluster.request<Lease>('POST', path, { body: desired() })
            : await cluster.request<Lease>('PUT', `${path}/${name}`, { body: desired(lease) });
        } catch (error) {
          // another deploy created or took the lease between our read and our write: read again
          if (error instanceof KubeApiError && error.status === 409) return undefined;
          throw new Error(`cannot take the deploy lock of ${where}: ${errorText(error)}`, { cause: error });
        }
        if (expired !== undefined)
          core.info(
            `the deploy lock of ${where} was held by '${holder}', which stopped renewing it ${Math.round(expired / 1000)} s ago (expired): taken over`,
          );
        if (announced)
          core.info(`got the deploy lock of ${where} after ${Math.round((Date.now() - started) / 1000)} s`);
        const lock = new DeployLock(
          cluster,
          `${path}/${name}`,
          held,
          me,
          leaseSeconds,
          where,
          createdNamespace,
          options,
        );
        lock.takenAsRead = passes === 1 && options.reads !== undefined && !createdNamespace;
        return lock;
      }

      last = lease;
      if (!announced) {
        announced = true;
        core.info(
          `waiting for the deploy lock of ${where}: another run holds it ('${holder}', since ${lease.spec?.acquireTime ?? '?'}); waiting up to ${Math.round(waitMs / 1000)} s`,
        );
      }
      return undefined;
    },
    { timeoutMs: waitMs, intervalMs: pollMs },
  );
  if (lock) return lock;
  throw new Error(
    `another run ('${last?.spec?.holderIdentity ?? '?'}', since ${last?.spec?.acquireTime ?? '?'}) still holds the deploy lock of ${where} after ${Math.round(waitMs / 1000)} s of waiting; nothing was changed. ` +
      `If nothing is running there, the lock expires ${leaseSeconds} s after its holder stopped (or delete Lease ${name}), then run again`,
  );
}

/** The held lock: renewed in the background until released. */
export class DeployLock {
  /**
   * Taken on the first pass, from options.reads: no other run took the lock between that read and this
   * write, so what was read after that read (and before the write) holds as if read under the lock.
   */
  takenAsRead = false;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private released = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly path: string,
    /** the Lease as this run last wrote it */
    private held: Lease,
    private readonly me: string,
    leaseSeconds: number,
    private readonly where: string,
    private readonly createdNamespace: boolean,
    private readonly options: LockOptions,
  ) {
    this.timer = setInterval(
      () => {
        this.renewing = this.renewing.then(() => this.renew());
      },
      (leaseSeconds * 1000) / 3,
    );
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.released) return;
    try {
      const lease = await readLease(this.cluster, this.path);
      if (lease?.spec?.holderIdentity !== this.me) {
        core.warning(
          `the deploy lock of ${this.where} is now held by '${lease?.spec?.holderIdentity ?? 'nobody'}': another deploy may change the environment while this one runs`,
        );
        return;
      }
      this.held = await this.cluster.request<Lease>('PUT', this.path, {
        body: { ...lease, spec: { ...lease.spec, renewTime: microTime(new Date()) } },
      });
    } catch (error) {
      // an API server outage: the next renewal tries again, and the lease outlives a few failed ones
      core.info(`could not renew the deploy lock of ${this.where}: ${errorText(error)}`);
    }
  }

  /** The namespace is being deleted with the Lease in it: nothing to release, stop renewing. */
  forget(): void {
    this.released = true;
    clearInterval(this.timer);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.renewing;
    const unheld = (lease: Lease): Lease => {
      const { holderIdentity: _, ...spec } = lease.spec ?? {};
      return { ...lease, spec };
    };
    try {
      // as last written (its resourceVersion guards it); changed since, it is read again and released only
      // while still this run's
      await this.cluster.request('PUT', this.path, { body: unheld(this.held) }).catch(async (error) => {
        if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        const lease = await readLease(this.cluster, this.path);
        if (lease?.spec?.holderIdentity === this.me)
          await this.cluster.request('PUT', this.path, { body: unheld(lease) });
      });
      // a first deploy that applied nothing leaves no namespace behind for its lock alone
      if (this.createdNamespace && !(await holdsAnything(this.cluster, this.options)))
        await deleteNamespace(this.cluster, this.options.namespace);
    } catch (error) {
      core.warning(
        `could not release the deploy lock of ${this.where} (${errorText(error)}); it expires by itself once it is no longer renewed`,
      );
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

/** undefined while the lease is live; else for how long it has not been renewed, in ms. */
function expiredFor(lease: Lease, unchangedSince: number, now: number): number | undefined {
  const durationMs = (lease.spec?.leaseDurationSeconds ?? 60) * 1000;
  const renewed = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '');
  // by its own clock (the holder's renewTime), or by ours: unchanged for a whole duration since we saw it
  if (!Number.isNaN(renewed) && now - renewed > durationMs) return now - renewed;
  if (now - unchangedSince > durationMs) return now - unchangedSince;
  return undefined;
}

function refuseIfSuperseded(lease: Lease, order: DeployOrder | undefined, sha: string, where: string): void {
  const a = lease.metadata.annotations ?? {};
  const recorded = Number(a[note.run]);
  if (!order || a[note.workflow] !== order.workflow || !(recorded > order.run)) return;
  throw new Error(
    `superseded: ${where} already got commit ${(a[note.sha] ?? '?').slice(0, 7)} from run #${recorded} of ${order.workflow} (at ${a[note.at] ?? '?'}); ` +
      `this is run #${order.run} with commit ${sha.slice(0, 7)}, which is older, so nothing was applied. ` +
      `To go back to an older commit, use a rollback (mode rollback) instead of re-running an old deploy.`,
  );
}

async function readLease(cluster: Cluster, path: string): Promise<Lease | undefined> {
  try {
    return await cluster.get<Lease>(path);
  } catch (error) {
    throw new Error(`cannot read the deploy lock ${path}: ${errorText(error)}`, { cause: error });
  }
}

/**
 * The Lease lives in the environment's namespace: a deploy makes it when missing (true), as applySet does; a
 * rollback, teardown or sweep locks a namespace that exists, and never makes one.
 */
async function namespaceOfLease(
  cluster: Cluster,
  namespace: string,
  purpose: NonNullable<LockOptions['purpose']>,
): Promise<boolean> {
  if (purpose === 'deploy')
    return createNamespaceIfMissing(
      cluster,
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace, labels: { [managedByLabel]: managedBy } },
      },
      { fieldManager: managedBy },
    );
  if (!(await readNamespace(cluster, namespace)))
    throw new Error(`namespace '${namespace}' does not exist: nothing there to lock`);
  return false;
}

/** Whether the namespace holds any object this action applied for the instance. */
async function holdsAnything(cluster: Cluster, options: LockOptions): Promise<boolean> {
  const lists = await listByKind(cluster, options.namespace, instanceSelector(managedBy, options.instance));
  return lists.some((l) => l.items.length > 0);
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
