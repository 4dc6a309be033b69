// `archetype-deploy setup`: read both sides → check the caller's rights → one plan → print it, changing
// nothing → with --yes apply it, Azure first (the GitHub variables need the identities' client ids), then the
// cluster's step, then GitHub. With --teardown, the same for removing what setup made (teardown-run.ts).
// The exit code: 0 done (or a plan that --yes can apply), 1 refused or failed; nothing is printed as a stack.
import { applyAzure } from './azure/apply.js';
import { signedInTenant } from './azure/credential.js';
import { readAzureState } from './azure/read-state.js';
import { checkRights, describeMissing, rightsForPlan } from './azure/rights.js';
import { type ClusterStep, pendingClusterStep } from './cluster-step.js';
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
  /** the cluster's step (cluster-step.ts); default: pendingClusterStep */
  clusterStep?: ClusterStep;
}

export async function runSession(session: SetupSession, io: SetupIo): Promise<number> {
  return session.options.teardown ? runTeardown(session, io) : runApply(session, io);
}

async function runApply(session: SetupSession, io: SetupIo): Promise<number> {
  const { options, arm, gh, target } = session;
  io.out(
    `Reading ${target.repository} on GitHub and subscription ${options.subscriptionId} on Azure (nothing changes without --yes)`,
  );
  const github = await readGitHubState(gh, productionEnvironment);
  const reviewers = await resolveReviewers(gh, github, options.reviewers, productionEnvironment);
  const azure = await readAzureState(arm, target);
  const tenantId = await signedInTenant(session.credential, session.endpoints.armEndpoint);
  const input = { target, tenantId, audience: session.endpoints.oidcAudience, github, azure, reviewers };
  const plan = planWhole(input);
  const missing = describeMissing(await checkRights(arm, rightsForPlan(plan.azure, azure, target)));
  io.out('');
  io.out(`Setup plan for ${target.repository}:`);
  for (const line of renderWholePlan(plan, missing)) io.out(line);
  io.out('');
  const refused = blockers(plan, missing);
  if (refused.length > 0) {
    io.out(
      `setup changed nothing: ${refused.length} refusal(s) above; once the rights are granted, run it again`,
    );
    return 1;
  }
  if (!options.yes) {
    if (!wholePlanIsEmpty(plan))
      io.out('This was a plan; nothing changed. Run again with --yes to apply it.');
    return 0;
  }
  const applied = await applyAzure(arm, plan.azure, azure, target, {
    ...(options.location ? { location: options.location } : {}),
  });
  const azureCount = plan.azure.identities.length + plan.azure.credentials.length + plan.azure.roles.length;
  if (azureCount > 0) io.out(`Azure: ${azureCount} change(s) applied`);
  const clusterStep = io.clusterStep ?? pendingClusterStep;
  for (const line of await clusterStep({ phase: 'apply', session, azure, identities: applied })) io.out(line);
  // the variables again, now with the identities' real client ids
  const githubPlan = planGitHubSide(input, {
    production: applied.production.clientId,
    preview: applied.preview.clientId,
  });
  for (const line of await applyGitHubPlan(gh, github, githubPlan)) io.out(`GitHub: ${line}`);
  if (!wholePlanIsEmpty(plan))
    io.out(`Apply complete. Run setup again to check: it should print "nothing to change".`);
  return 0;
}
