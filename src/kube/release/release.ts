import { gunzipSync, gzipSync } from 'node:zlib';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  managedBy,
  managedByLabel,
  releaseAnnotations,
  releaseLabels,
  releaseSecretName,
  releaseSecretType,
} from '../../names.js';
import { errorText } from '../../util/errors.js';
import { type Cluster, isNotFound, KubeApiError } from '../client/client.js';

// A release is one deploy's whole set, kept in the cluster the way Helm keeps its release Secrets: the
// objects applied (gzip'd JSON, in a Secret because the set may hold Secrets), the commit, the image and
// the outcome. A failed deploy restores the last deployed release entirely, not only a Deployment's pod
// template. The records carry no app.kubernetes.io/instance label, so that prune never counts them as part
// of the app; they live in the app's namespace and go with it.

/** paused: its canary passed the steps below 100 % and waits, split, for mode promote or abort */
export type Outcome = 'pending' | 'paused' | 'deployed' | 'failed' | 'superseded';

export interface ReleaseInfo {
  number: number;
  sha: string;
  image: string;
  /** ISO 8601 */
  created: string;
  outcome: Outcome;
  /** one line on why it failed, or from what it was restored */
  note: string;
  /** the Secret that holds it */
  secret: string;
  /** a paused release: the share of the route's traffic, in percent, its canary takes meanwhile */
  pausedAt?: number;
}

export interface Release extends ReleaseInfo {
  objects: KubernetesObject[];
}

const releaseOfLabel = releaseLabels.of;
const numberLabel = releaseLabels.number;
const outcomeLabel = releaseLabels.outcome;
const shaAnnotation = releaseAnnotations.sha;
const imageAnnotation = releaseAnnotations.image;
const createdAnnotation = releaseAnnotations.created;
const noteAnnotation = releaseAnnotations.note;
const pausedAtAnnotation = releaseAnnotations.pausedAt;
/** records kept per app and namespace; older ones are deleted when a new one is made */
export const releaseHistory = 10;
// a Secret holds at most 1 MiB; leave room for the metadata
const maxPayloadBytes = 900 * 1024;

const secretsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`;

interface SecretObject {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string | Date;
  };
  type?: string;
  data?: Record<string, string>;
}

function infoOf(secret: SecretObject): ReleaseInfo | undefined {
  const labels = secret.metadata?.labels ?? {};
  const annotations = secret.metadata?.annotations ?? {};
  const number = Number(labels[numberLabel]);
  if (secret.type !== releaseSecretType || !Number.isInteger(number) || number < 1) return undefined;
  const pausedAt = Number(annotations[pausedAtAnnotation]);
  return {
    number,
    sha: annotations[shaAnnotation] ?? '',
    image: annotations[imageAnnotation] ?? '',
    created: annotations[createdAnnotation] ?? String(secret.metadata?.creationTimestamp ?? ''),
    outcome: (labels[outcomeLabel] as Outcome | undefined) ?? 'pending',
    note: annotations[noteAnnotation] ?? '',
    secret: secret.metadata?.name ?? '',
    ...(pausedAt > 0 && pausedAt < 100 ? { pausedAt } : {}),
  };
}

// The list answers each Secret whole: its set is kept for readRelease, which then need not ask again.
const listed = new WeakMap<ReleaseInfo, string | undefined>();

/** The releases of `instance` in the namespace, oldest first (without their objects). */
export async function listReleases(
  cluster: Cluster,
  namespace: string,
  instance: string,
): Promise<ReleaseInfo[]> {
  const list = await cluster.request<{ items: SecretObject[] }>('GET', secretsPath(namespace), {
    query: { labelSelector: `${releaseOfLabel}=${instance}` },
  });
  const releases: ReleaseInfo[] = [];
  for (const item of list.items) {
    const info = infoOf(item);
    if (!info) continue;
    listed.set(info, item.data?.release);
    releases.push(info);
  }
  return releases.sort((a, b) => a.number - b.number);
}

/** One release with its objects. */
export async function readRelease(cluster: Cluster, namespace: string, info: ReleaseInfo): Promise<Release> {
  const payload =
    listed.get(info) ??
    (await cluster.request<SecretObject>('GET', `${secretsPath(namespace)}/${info.secret}`)).data?.release;
  if (!payload)
    throw new Error(`release ${info.number} (Secret ${info.secret} in '${namespace}') holds no set`);
  let objects: KubernetesObject[];
  try {
    objects = (
      JSON.parse(gunzipSync(Buffer.from(payload, 'base64')).toString('utf8')) as {
        objects: KubernetesObject[];
      }
    ).objects;
  } catch (error) {
    throw new Error(
      `release ${info.number} (Secret ${info.secret} in '${namespace}') cannot be read: ${errorText(error)}`,
    );
  }
  return { ...info, objects };
}

/**
 * The records to delete before one more is made: the oldest beyond the history, but never the newest deployed
 * one, which a failure restores (a run of failed deploys would otherwise leave nothing to restore).
 */
export function staleReleases(existing: ReleaseInfo[], history = releaseHistory): ReleaseInfo[] {
  const keep = lastDeployed(existing)?.number;
  return existing.slice(0, Math.max(0, existing.length + 1 - history)).filter((r) => r.number !== keep);
}

/** The newest release that was deployed: what a failed deploy restores. */
export function lastDeployed(releases: ReleaseInfo[]): ReleaseInfo | undefined {
  return [...releases].reverse().find((r) => r.outcome === 'deployed');
}

/** Records a new release, numbered after the newest, as pending; deletes records beyond the history. */
export async function recordRelease(
  cluster: Cluster,
  namespace: string,
  instance: string,
  release: { sha: string; image: string; objects: KubernetesObject[]; outcome?: Outcome; note?: string },
  existing: ReleaseInfo[],
): Promise<ReleaseInfo> {
  const number = (existing.at(-1)?.number ?? 0) + 1;
  const payload = gzipSync(JSON.stringify({ version: 1, objects: release.objects }));
  if (payload.length > maxPayloadBytes)
    throw new Error(
      `the manifests are too large to keep as a release (${Math.round(payload.length / 1024)} KiB compressed, at most ${maxPayloadBytes / 1024} KiB): split the app or move data out of ConfigMaps`,
    );
  const info: ReleaseInfo = {
    number,
    sha: release.sha,
    image: release.image,
    created: new Date().toISOString(),
    outcome: release.outcome ?? 'pending',
    note: release.note ?? '',
    secret: releaseSecretName(instance, number),
  };
  await cluster.request('POST', secretsPath(namespace), {
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: releaseSecretType,
      metadata: {
        name: info.secret,
        labels: {
          [managedByLabel]: managedBy,
          [releaseOfLabel]: instance,
          [numberLabel]: String(number),
          [outcomeLabel]: info.outcome,
        },
        annotations: {
          [shaAnnotation]: info.sha,
          [imageAnnotation]: info.image,
          [createdAnnotation]: info.created,
          ...(info.note ? { [noteAnnotation]: info.note } : {}),
        },
      },
      data: { release: payload.toString('base64') },
    },
  });
  for (const old of staleReleases(existing))
    await cluster.request('DELETE', `${secretsPath(namespace)}/${old.secret}`).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  return info;
}

/** Sets a release's outcome (and the note that explains it); `pausedAt` only with outcome paused. */
export async function markRelease(
  cluster: Cluster,
  namespace: string,
  release: ReleaseInfo,
  outcome: Outcome,
  note = '',
  pausedAt?: number,
): Promise<void> {
  const paused = outcome === 'paused' ? pausedAt : undefined;
  await cluster.request('PATCH', `${secretsPath(namespace)}/${release.secret}`, {
    contentType: 'application/merge-patch+json',
    body: {
      metadata: {
        labels: { [outcomeLabel]: outcome },
        annotations: { [noteAnnotation]: note || null, [pausedAtAnnotation]: paused ? String(paused) : null },
      },
    },
  });
  release.outcome = outcome;
  release.note = note;
  if (paused) release.pausedAt = paused;
  else delete release.pausedAt;
}

/** The release whose canary waits for review, if the newest one is (only the newest can be). */
export function pausedRelease(releases: ReleaseInfo[]): ReleaseInfo | undefined {
  const newest = releases.at(-1);
  return newest?.outcome === 'paused' ? newest : undefined;
}

/** Paused releases a later run took over from (its canary repaired or rolled back): failed, with why. */
export async function abandonPaused(
  cluster: Cluster,
  namespace: string,
  releases: ReleaseInfo[],
  why: string,
): Promise<void> {
  for (const r of releases.filter((r) => r.outcome === 'paused'))
    await markRelease(cluster, namespace, r, 'failed', `canary paused at ${r.pausedAt ?? '?'} % ${why}`);
}

/**
 * The releases of the instance and the last deployed one, read in full. One that cannot be read is warned
 * about and left out: a failed deploy then undoes only the failed Deployment.
 */
export async function readHistory(
  cluster: Cluster,
  namespace: string,
  instance: string,
  warn: (line: string) => void,
): Promise<{ all: ReleaseInfo[]; previous?: Release }> {
  const all = await listReleases(cluster, namespace, instance);
  const info = lastDeployed(all);
  if (!info) return { all };
  const previous = await readRelease(cluster, namespace, info).catch((error: unknown) => {
    warn(`${errorText(error)}: a failed deploy falls back to undoing the failed Deployment only`);
    return undefined;
  });
  return previous ? { all, previous } : { all };
}

/**
 * A set that is live and unchanged but has no deployed release (deployed before releases were recorded)
 * becomes one, so that the next failure has something whole to restore. Returns the release recorded, if
 * one was (undefined too when another run recorded it meanwhile).
 */
export async function recordIfNone(
  cluster: Cluster,
  namespace: string,
  instance: string,
  live: { sha: string; image: string; objects: KubernetesObject[] },
  all: ReleaseInfo[],
): Promise<ReleaseInfo | undefined> {
  if (lastDeployed(all)) return undefined;
  return recordRelease(
    cluster,
    namespace,
    instance,
    { ...live, outcome: 'deployed', note: 'recorded from the live set, which was unchanged' },
    all,
  ).catch((error: unknown) => {
    // another run recorded it meanwhile
    if (error instanceof KubeApiError && error.status === 409) return undefined;
    throw error;
  });
}
