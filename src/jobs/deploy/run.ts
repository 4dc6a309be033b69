import type { Cluster } from '../../kube/client/client.js';
import type { Release, ReleaseInfo } from '../../kube/release/release.js';
import type { DeployPlan, RunInfo } from '../../plan.js';
import type { Registry } from '../../registry/client.js';
import type { Settings } from '../../settings.js';
import type { Timings } from '../../util/timings.js';
import type { ReadAhead } from './lock.js';
import type { DeployResult } from './result.js';

/**
 * One deploy run, as jobs/deploy.ts and its helpers share it: what it was asked (settings, the commit, the
 * plan), what it talks to, and what it has learnt and done so far, which a failure needs to restore the
 * previous release (jobs/deploy/failure.ts).
 */
export interface DeployRun {
  settings: Settings;
  run: RunInfo;
  plan: DeployPlan;
  /** the pull request of a preview */
  pr?: number;
  cluster: Cluster;
  registry: Registry;
  timings: Timings;
  /** `${repository}@${digest}`: what is rolled out */
  image: string;
  /** set at the first write to the set's objects: from then on a failure restores, never deletes */
  applying?: boolean;
  result: DeployResult;
  /** the last deployed release, with its objects: what a failure restores */
  previous?: Release;
  /** this deploy's release record, once the first write is near */
  release?: ReleaseInfo;
  /** each Deployment's revision before the first write: what serves again after a restore */
  serving: Map<string, number>;
  /** the Deployment whose rollout failed, for the fallback of clusters without release records */
  failedDeployment?: string;
  /** the lock's first reads, taken while the registry was asked (absent after a build: stale by then) */
  ahead?: ReadAhead;
  /** mode promote: the release whose canary paused for review, taken on from its weight */
  resume?: Release & { pausedAt: number };
}
