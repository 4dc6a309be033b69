// `archetype-deploy setup --teardown`: removes what setup made and only that: on GitHub what its record
// variable says it did (github/teardown.ts), in Azure the identities carrying its tag with this repository and
// their role assignments (azure/teardown.ts). Printed first, the caller's rights checked for all of it; with
// --yes, GitHub first (the workflows stop pointing at the identities), then the cluster's rbac/ objects setup
// wrote, then Azure.

import { checkRights, describeMissing, rightsForTeardown } from './azure/rights.js';
import {
  applyTeardown as applyAzureTeardown,
  planTeardown as planAzureTeardown,
  renderTeardown,
  type TeardownPlan,
} from './azure/teardown.js';
import { planClusterTeardown } from './cluster-step.js';
import { readGitHubState } from './github/read-state.js';
import {
  applyTeardown as applyGitHubTeardown,
  describeTeardownStep,
  planTeardown as planGitHubTeardown,
} from './github/teardown.js';
import type { SetupIo } from './run.js';
import type { SetupSession } from './session.js';
import { productionEnvironment } from './whole-plan.js';

export async function runTeardown(session: SetupSession, io: SetupIo): Promise<number> {
  const { options, arm, gh, target } = session;
  io.out(
    `Reading what setup made for ${target.repository} on GitHub and in subscription ${options.subscriptionId} (nothing changes without --yes)`,
  );
  const github = planGitHubTeardown(await readGitHubState(gh, productionEnvironment));
  const azure = await planAzureTeardown(arm, target);
  const wanted = rightsForTeardown(
    target,
    azure.identities.map((i) => i.name),
    azure.roleAssignments.map((a) => a.scope),
  );
  const missing = describeMissing(await checkRights(arm, wanted));
  const cluster = await planClusterTeardown(session);
  const lines = [
    ...github.steps.map(describeTeardownStep),
    ...cluster.lines.filter((line) => line.startsWith('- ')),
    ...(azureIsEmpty(azure) ? [] : renderTeardown(azure)),
  ];
  io.out('');
  io.out(`Teardown plan for ${target.repository}:`);
  for (const line of lines) io.out(`  ${line}`);
  io.out(
    lines.length === 0 ? 'nothing to remove' : `Plan: 0 to add, 0 to change, ${lines.length} to destroy.`,
  );
  // what stays in the cluster, and why (the production namespace, the pod policies every app shares)
  for (const line of cluster.lines.filter((l) => !l.startsWith('- '))) io.out(line);
  for (const note of azure.kept) io.out(`kept: ${note}`);
  const refused = [...github.refusals, ...missing];
  for (const refusal of refused) io.out(`refused: ${refusal}`);
  io.out('');
  if (refused.length > 0) {
    io.out(`setup removed nothing: ${refused.length} refusal(s) above`);
    return 1;
  }
  if (lines.length === 0) return 0;
  if (!options.yes) {
    io.out('This was a plan; nothing changed. Run again with --teardown --yes to remove it.');
    return 0;
  }
  await applyGitHubTeardown(gh, github);
  for (const label of await cluster.apply()) io.out(`cluster: deleted ${label}`);
  await applyAzureTeardown(arm, target, azure);
  io.out(`Teardown complete: ${lines.length} removed or put back.`);
  return 0;
}

function azureIsEmpty(plan: TeardownPlan): boolean {
  return plan.identities.length + plan.roleAssignments.length === 0;
}
