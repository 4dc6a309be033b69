// `archetype-deploy setup`: read both sides and the cluster → check the caller's rights → one plan → print it,
// changing nothing → with --yes apply it, Azure first (the GitHub variables need the identities' client ids,
// the cluster's bindings their principal ids), then the cluster, then GitHub → the checks' table. With
// --teardown, the same for removing what setup made (teardown-run.ts).
// The exit code: 0 done (or a plan that --yes can apply), 1 refused or failed; nothing is printed as a stack.
import { applyAzure } from './azure/apply.js';
import { signedInTenant } from './azure/credential.js';
import { type AzureState, readAzureState } from './azure/read-state.js';
import { checkRights, describeMissing, rightsForPlan } from './azure/rights.js';
import {
  applyClusterStep,
  type ClusterPlan,
  checkAfter,
  currentPrincipals,
  planClusterStep,
} from './cluster-step.js';
import { applyGitHubPlan } from './github/apply.js';
import { readGitHubState } from './github/read-state.js';
import { resolveReviewers } from './github/reviewers.js';
import type { SetupSession } from './session.js';
import { runTeardown } from './teardown-run.js';
import {
  blockers,
  planGitHubSide,
  planWhole,
  productionEnvironment,
  renderWholePlan,
  wholePlanIsEmpty,
} from './whole-plan.js';

export interface SetupIo {
  /** prints one line of the plan or of progress */
  out: (line: string) => void;
}

export async function runSession(session: SetupSession, io: SetupIo): Promise<number> {
  return session.options.teardown ? runTeardown(session, io) : runApply(session, io);
}

async function runApply(session: SetupSession, io: SetupIo): Promise<number> {
  const { options, arm, gh, target } = session;
  io.out(
    `Reading ${target.repository} on GitHub, subscription ${options.subscriptionId} on Azure and cluster ${options.cluster.name} (nothing changes without --yes)`,
  );
  const github = await readGitHubState(gh, productionEnvironment);
  const reviewers = await resolveReviewers(gh, github, options.reviewers, productionEnvironment);
  const azure = await readAzureState(arm, target);
  const tenantId = await signedInTenant(session.credential, session.endpoints.armEndpoint);
  const domains = { previewDomain: options.previewDomain, appHost: options.appHost };
  const input = {
    target,
    tenantId,
    audience: session.endpoints.oidcAudience,
    github,
    azure,
    domains,
    reviewers,
  };
  const plan = planWhole(input);
  const missing = describeMissing(await checkRights(arm, rightsForPlan(plan.azure, azure, target)));
  const cluster = await planClusterStep(session, currentPrincipals(azure));
  io.out('');
  io.out(`Setup plan for ${target.repository}:`);
  for (const line of renderWholePlan(plan, missing, cluster)) io.out(line);
  io.out('');
  const refused = blockers(plan, missing, cluster);
  if (refused.length > 0) {
    io.out(
      `setup changed nothing: ${refused.length} refusal(s) above; once the rights are granted, run it again`,
    );
    return 1;
  }
  const empty = wholePlanIsEmpty(plan, cluster);
  if (!options.yes && !empty) {
    io.out('This was a plan; nothing changed. Run again with --yes to apply it.');
    return 0;
  }
  if (!empty) await apply(session, io, { input, plan, cluster });
  // nothing applied: Azure is as read above
  return check(session, io, plan, cluster, empty ? azure : undefined);
}

interface Planned {
  input: Parameters<typeof planWhole>[0];
  plan: ReturnType<typeof planWhole>;
  cluster: ClusterPlan;
}

/** Azure, then the cluster (bindings need the principal ids), then GitHub (variables need the client ids). */
async function apply(session: SetupSession, io: SetupIo, { input, plan, cluster }: Planned): Promise<void> {
  const { options, arm, gh, target } = session;
  const applied = await applyAzure(arm, plan.azure, input.azure, target, {
    ...(options.location ? { location: options.location } : {}),
  });
  const azureCount = plan.azure.identities.length + plan.azure.credentials.length + plan.azure.roles.length;
  if (azureCount > 0) io.out(`Azure: ${azureCount} change(s) applied`);
  if (cluster.connected) {
    const principals = { production: applied.production.principalId, preview: applied.preview.principalId };
    for (const line of await applyClusterStep(session, cluster.connected, principals)) io.out(line);
  }
  const githubPlan = planGitHubSide(input, {
    production: applied.production.clientId,
    preview: applied.preview.clientId,
  });
  for (const line of await applyGitHubPlan(gh, input.github, githubPlan)) io.out(`GitHub: ${line}`);
  io.out('Apply complete. Run setup again to check: it should print "nothing to change".');
}

/** The checks' table, read after apply (or when there was nothing to change); exit 1 when one fails. */
async function check(
  session: SetupSession,
  io: SetupIo,
  plan: Planned['plan'],
  cluster: ClusterPlan,
  unchanged?: AzureState,
): Promise<number> {
  const azure = unchanged ?? (await readAzureState(session.arm, session.target));
  if (!cluster.connected || !azure.identities.production || !azure.identities.preview) return 0;
  const result = await checkAfter({
    session,
    connected: cluster.connected,
    principals: currentPrincipals(azure),
    azure,
    github: plan.github,
    audience: session.endpoints.oidcAudience,
  });
  io.out('');
  io.out('Checks (SubjectAccessReviews as each identity; federated subjects against the workflows):');
  for (const line of result.lines) io.out(`  ${line}`);
  if (!result.ok)
    io.out('setup is not done: the failed checks above say what to fix; run setup again after fixing them');
  return result.ok ? 0 : 1;
}
