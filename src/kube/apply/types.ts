import type { KubernetesObject } from '@kubernetes/client-node';

// The shapes of an apply: what it is asked (ApplyOptions), what it answers (ApplyResult), and what it plans
// for each object in between (Planned).

/** 'replaced': a Job whose pod template changed, deleted and created anew (its template is immutable) */
export type ApplyAction = 'created' | 'configured' | 'replaced' | 'unchanged';

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  action: ApplyAction;
}

export interface ApplyOptions {
  fieldManager: string;
  /** take over fields owned by other managers (input 'force-conflicts') */
  force: boolean;
  /** where the namespaced objects go; created when missing */
  namespace: string;
  /**
   * Managers whose fields are ours to take back without 'force-conflicts'. Defaults to the field manager and
   * the rollback's and the autoscaler handover's (names.ts), so the deploy after a rollback is not a conflict.
   */
  ownManagers?: string[];
  /** a dry-run whose answer warns that pods would violate Pod Security fails the set (previews) */
  podSecurityFails?: boolean;
  /** the namespace was made for this deploy (a preview's): deleted again when the dry-run fails */
  ownsNamespace?: boolean;
  /** where an object comes from ("k8s/deployment.yaml:1"), named in front of every error about it */
  sourceOf?: (kind: string, name: string) => string | undefined;
  /** a cancelled run: no write starts once it is aborted */
  signal?: AbortSignal;
  /**
   * Dry-runs already passed for these very objects (preflight's, under the same deploy lock, so nothing else
   * wrote since): not asked again. An object without one is dry-run here.
   */
  dryRuns?: Map<KubernetesObject, DryRun>;
  /** the namespace is known to exist (the deploy lock made or found it): not asked again */
  namespaceExists?: boolean;
  /** called once the whole set has passed the dry-run, before the first write (the release record) */
  beforeWrite?: () => Promise<void>;
  /**
   * Staged apply: the objects `select` picks are written first, then `run` is awaited (pre-deploy Jobs run
   * to completion), then the rest. A failure of `run` leaves the rest unwritten.
   */
  firstStage?: { select: (object: KubernetesObject) => boolean; run: () => Promise<void> };
}

/** A passed server-side apply dry-run: the live object (none: a create), the result and its warnings. */
export interface DryRun {
  live?: KubernetesObject;
  result: KubernetesObject;
  warnings: string[];
}

export interface ApplyResult {
  objects: AppliedObject[];
  /** the namespace did not exist and was created */
  namespaceCreated: boolean;
  /** fields taken back from our own managers, as "Kind/name .field (manager)" */
  reclaimed: string[];
  /** fields taken over from kubectl (objects made or changed by hand), and those it added that went */
  takenOver: TakenOver[];
}

export interface TakenOver {
  kind: string;
  name: string;
  field: string;
  /** the kubectl field manager, e.g. kubectl-client-side-apply */
  manager: string;
  /** the live value it had, where the field is a plain path */
  was?: unknown;
  /** a field the manifests do not have, added by hand: removed by the apply (adopt.ts) */
  removed?: boolean;
}

/** One object of the set, passed by the dry-run: what writing it does. */
export interface Planned {
  object: KubernetesObject;
  path: string;
  action: ApplyAction;
  force: boolean;
}
