// The cluster's part of setup (src/setup/cluster/): sign in to the AKS cluster as the person running setup,
// plan the rbac/ objects by server-side apply dry-runs, apply them after Azure's part (the identities' principal
// ids exist then), and check each identity with SubjectAccessReviews and its federated subjects against the
// workflows' runs. On teardown, delete what setup's field manager wrote. A cluster setup cannot sign in to is a
// refusal naming why, never a reason to fall back to an admin credential.
import type { AzureState } from './azure/read-state.js';
import {
  allOk,
  applyRbacPlan,
  applyRbacTeardown,
  type CheckRow,
  checkClusterAccess,
  compareSubjects,
  connectAsSignedInUser,
  describeRbacPlan,
  planClusterRbac,
  planRbacTeardown,
  type RbacInput,
  type RbacPlan,
  renderCheckTable,
  renderRbac,
  type SignedInCluster,
} from './cluster/index.js';
import type { IdentityRole } from './federation-plan.js';
import type { GitHubPlan } from './github/plan.js';
import type { SetupSession } from './session.js';

/** What the cluster's plan adds to the whole plan. */
export interface ClusterPlan {
  /** `+`/`~` lines, one per rbac/ object to create or change */
  changes: string[];
  /** why nothing can be applied on the cluster: each names the object or the sign-in, and the fix */
  refusals: string[];
  /** the signed-in connection, for apply and the checks; undefined when refused before it */
  connected?: SignedInCluster;
}

/** Stands for the principal id of an identity the plan creates: bindings name it once Azure assigned it. */
export function pendingPrincipal(role: IdentityRole): string {
  return `new-${role}-identity`;
}

/** The rbac/ variables for the identities' principals (placeholders for identities not made yet). */
export function rbacInput(session: SetupSession, principals: Record<IdentityRole, string>): RbacInput {
  const { app, previewDomain } = session.options;
  return {
    app: app.name,
    namespace: app.namespace,
    productionPrincipal: principals.production,
    previewPrincipal: principals.preview,
    previewDomain,
    ingressNamespace: app.ingressNamespace,
    ...(app.gateway ? { gateway: app.gateway } : {}),
  };
}

/** The principals Azure holds now, placeholders for the identities the plan creates. */
export function currentPrincipals(azure: AzureState): Record<IdentityRole, string> {
  return {
    production: azure.identities.production?.principalId ?? pendingPrincipal('production'),
    preview: azure.identities.preview?.principalId ?? pendingPrincipal('preview'),
  };
}

/** Signs in as the caller (user kubeconfig + Entra token); a failure is a refusal with its reason. */
async function connect(session: SetupSession): Promise<SignedInCluster | string> {
  const { cluster, subscriptionId } = session.options;
  try {
    return await connectAsSignedInUser(
      session.credential,
      { subscriptionId, resourceGroup: cluster.resourceGroup, name: cluster.name },
      { armEndpoint: session.endpoints.armEndpoint },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `cluster ${cluster.resourceGroup}/${cluster.name}: setup cannot sign in to it as you, so it cannot apply rbac/ there: ${message}`;
  }
}

/** Reads only: the rbac/ objects' dry-runs as the caller. */
export async function planClusterStep(
  session: SetupSession,
  principals: Record<IdentityRole, string>,
): Promise<ClusterPlan> {
  const connected = await connect(session);
  if (typeof connected === 'string') return { changes: [], refusals: [connected] };
  const { plan } = await planClusterRbac(connected, rbacInput(session, principals));
  return { ...split(plan), connected };
}

function split(plan: RbacPlan): Omit<ClusterPlan, 'connected'> {
  const lines = describeRbacPlan(plan);
  return {
    changes: lines.filter((line) => line.startsWith('+ ') || line.startsWith('~ ')),
    refusals: plan.entries.flatMap((e) => (e.refusal ? [e.refusal] : [])),
  };
}

/** Planned again with the identities' real principals, then applied; returns the lines written. */
export async function applyClusterStep(
  session: SetupSession,
  connected: SignedInCluster,
  principals: Record<IdentityRole, string>,
): Promise<string[]> {
  const { plan } = await planClusterRbac(connected, rbacInput(session, principals));
  const { written } = await applyRbacPlan(connected.cluster, plan);
  return written.map((line) => `cluster: ${line}`);
}

export interface CheckInput {
  session: SetupSession;
  connected: SignedInCluster;
  principals: Record<IdentityRole, string>;
  /** Azure as it is after apply: the credentials the identities hold */
  azure: AzureState;
  github: GitHubPlan;
  audience: string;
}

/** The table of checks after apply (or on a run with nothing to change): rows, and whether all passed. */
export async function checkAfter(input: CheckInput): Promise<{ lines: string[]; ok: boolean }> {
  const rbac = rbacInput(input.session, input.principals);
  const objects = renderRbac(rbac);
  const rows: CheckRow[] = await checkClusterAccess(input.connected.cluster, rbac, objects);
  const { github, azure } = input;
  if (github.template)
    rows.push(
      ...compareSubjects(
        {
          template: github.template,
          subjectRepository: github.subjectRepository,
          repository: input.session.target.repository,
          defaultBranch: github.defaultBranch,
          audience: input.audience,
        },
        {
          production: azure.identities.production?.credentials ?? [],
          preview: azure.identities.preview?.credentials ?? [],
        },
      ),
    );
  return { lines: renderCheckTable(rows), ok: allOk(rows) };
}

/** Teardown's part: what it deletes and keeps (read), then deleted with `apply`. */
export async function planClusterTeardown(
  session: SetupSession,
): Promise<{ lines: string[]; deletes: number; apply: () => Promise<string[]> }> {
  const connected = await connect(session);
  if (typeof connected === 'string')
    return {
      lines: [`cluster: left as it is, ${connected}`],
      deletes: 0,
      apply: async () => [],
    };
  // object names carry no principal: placeholders render the same paths
  const objects = renderRbac(
    rbacInput(session, { production: pendingPrincipal('production'), preview: pendingPrincipal('preview') }),
  );
  const entries = await planRbacTeardown(connected.cluster, objects);
  const lines = entries.flatMap((e) =>
    e.action === 'delete' ? [`- ${e.label}`] : e.action === 'keep' ? [`kept: ${e.label}: ${e.why}`] : [],
  );
  return {
    lines,
    deletes: entries.filter((e) => e.action === 'delete').length,
    apply: () => applyRbacTeardown(connected.cluster, entries),
  };
}
