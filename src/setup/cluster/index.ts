// The cluster's part of setup, as the command calls it: connect as the signed-in user, plan the rbac/ objects
// (server-side apply dry-runs), apply them when asked, check each identity with SubjectAccessReviews, compare
// the federated subjects with what the workflows present, and undo on teardown. Each step is its own module;
// this file only puts the first three together the way every run does.
import type { Cluster } from '../../kube/client/client.js';
import type { IdentityRole } from '../federation-plan.js';
import { accessExpectations } from './access-expectations.js';
import { entraSubject, type KubeSubject, reviewAccess } from './access-review.js';
import type { CheckRow } from './check-table.js';
import type { SignedInCluster } from './connect.js';
import { type RbacInput, type RbacObject, renderRbac } from './rbac-files.js';
import { planRbac, type RbacPlan } from './rbac-plan.js';

export { accessExpectations, actionNeeds } from './access-expectations.js';
export { entraSubject, type KubeSubject, reviewAccess } from './access-review.js';
export { allOk, type CheckRow, renderCheckTable } from './check-table.js';
export { connectAsSignedInUser, type SignedInCluster, signedIn, whoAmI } from './connect.js';
export { applyRbacPlan, applyRbacTeardown, planRbacTeardown, type TeardownEntry } from './rbac-apply.js';
export { type RbacInput, type RbacObject, rbacDir, rbacVariables, renderRbac } from './rbac-files.js';
export {
  describeRbacPlan,
  planRbac,
  type RbacPlan,
  rbacPlanChanges,
  setupFieldManager,
} from './rbac-plan.js';
export { compareSubjects, type HeldCredential, presentedSubjects, workflowJobs } from './subject-check.js';

/** The rendered objects and the plan for them: reads only. `dir` is rbac/'s folder (found by default). */
export async function planClusterRbac(
  connected: SignedInCluster,
  input: RbacInput,
  dir?: string,
): Promise<{ objects: RbacObject[]; plan: RbacPlan }> {
  const objects = renderRbac(input, dir);
  return { objects, plan: await planRbac(connected.cluster, connected.user, objects) };
}

/**
 * The access table's rows for both identities, asked by the signed-in user. `subjects` default to the
 * principals of `input` as Entra tokens present them (no groups but system:authenticated).
 */
export async function checkClusterAccess(
  cluster: Cluster,
  input: RbacInput,
  objects: RbacObject[],
  subjects?: Record<IdentityRole, KubeSubject>,
): Promise<CheckRow[]> {
  const users = { production: input.productionPrincipal, preview: input.previewPrincipal };
  const checks = accessExpectations({ objects, app: input.app, namespace: input.namespace, users });
  return reviewAccess(
    cluster,
    subjects ?? { production: entraSubject(users.production), preview: entraSubject(users.preview) },
    checks,
    objects,
  );
}
