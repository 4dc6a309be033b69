import type { AppliedObject, PrunedObject } from '../../kube/apply/apply.js';
import type { Diagnosis } from '../../kube/diagnosis/diagnose.js';
import type { ServiceEndpoints } from '../../kube/reach/reach.js';
import type { DeployPlan } from '../../plan.js';
import type { Timings } from '../../util/timings.js';

// What a deploy reports (main.ts, github/): the result of one that went through, or the error of one that
// got as far as the cluster, carrying what it did.

export interface DeployResult {
  environment: string;
  namespace: string;
  image: string;
  digest: string;
  revision: number;
  /** the release this deploy recorded (kube/release/release.ts), once it wrote to the cluster */
  release?: number;
  url: string;
  applied: AppliedObject[];
  pruned: PrunedObject[];
  endpoints: ServiceEndpoints[];
  /** the Ingress's load balancer address, '' while it has none */
  ingressAddress: string;
  timings: Timings['steps'];
  /** strategy canary: each step's figures and verdict, as logged */
  canary?: string[];
  /** canary-pause: the share, in percent, the canary holds while it waits for mode promote or abort */
  paused?: number;
  /** the GitHub deployment stays in_progress with this line (a paused canary has not deployed yet) */
  waiting?: string;
  /** set when the rollout failed: what the pods showed */
  diagnosis?: Diagnosis;
  error?: string;
}

/** A deploy that got as far as the cluster and failed there; carries what it did, for the report. */
export class DeployFailure extends Error {
  constructor(
    message: string,
    readonly result: DeployResult,
  ) {
    super(message);
    this.name = 'DeployFailure';
  }
}

/** The result of a deploy of `image` (repository@digest) that has done nothing yet. */
export function startResult(
  plan: Pick<DeployPlan, 'environment' | 'namespace'>,
  image: string,
  url: string,
  timings: Timings,
): DeployResult {
  return {
    environment: plan.environment,
    namespace: plan.namespace,
    image,
    digest: image.split('@')[1] ?? '',
    revision: 0,
    url,
    applied: [],
    pruned: [],
    endpoints: [],
    ingressAddress: '',
    timings: timings.steps,
  };
}
