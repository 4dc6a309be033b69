// Where the cluster's own step plugs into the run: after Azure's apply (the identities and their principal
// ids exist) and before GitHub's (the workflows are pointed at the identities last), and on teardown before
// Azure's. It applies the rbac/ objects as the signed-in user and checks each identity with
// SubjectAccessReviews (src/setup/cluster/, built apart); until it is wired in, the run says what is left.
import type { AzureApplied } from './azure/apply.js';
import type { AzureState } from './azure/read-state.js';
import type { SetupSession } from './session.js';

export interface ClusterStepContext {
  phase: 'apply' | 'teardown';
  session: SetupSession;
  /** what Azure's read found (the cluster's id, location and facts) */
  azure?: AzureState;
  /** the identities after Azure's apply; undefined on teardown */
  identities?: AzureApplied;
}

/** Applies (or, on teardown, removes) the cluster's part; returns the lines to print. */
export type ClusterStep = (context: ClusterStepContext) => Promise<string[]>;

/** The step until src/setup/cluster/ provides it: changes nothing, and says what to do by hand. */
export const pendingClusterStep: ClusterStep = async ({ phase }) => [
  phase === 'apply'
    ? 'cluster: the rbac/ objects are not applied by this version of setup: apply them as docs/github-setup.md step 4 shows'
    : 'cluster: the rbac/ objects are not removed by this version of setup: delete them as docs/github-setup.md step 4 made them',
];
