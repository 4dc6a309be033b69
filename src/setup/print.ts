// The plan as text, like `terraform plan`: one line per change, the refusals and findings after, and
// "nothing to change" when there is nothing to do.
import type { CredentialChange } from './federation-plan.js';
import type { VariableChange, WantedRole } from './plan.js';

export interface SetupPlan {
  /** identities to create, by role, with their resource group */
  identities: Array<{ identity: 'production' | 'preview'; name: string; resourceGroup: string }>;
  credentials: CredentialChange[];
  /** role assignments, in the order they are made: an AcrPull/AcrPush holder's re-grant before the switch */
  roles: WantedRole[];
  /** the registry whose role assignment mode the plan switches to ABAC repository permissions */
  switchRegistry?: string;
  environments: Array<{ name: string; branch: string }>;
  variables: VariableChange[];
  /** what setup will not do, and why */
  refusals: string[];
  /** read-only findings (the cluster's), each with its fix */
  findings: string[];
}

/** `+ role <role> for <whom> on <scope>[, repositories ...][: why]`. */
export function describeRole(r: WantedRole): string {
  const whom =
    r.identity === 'holder'
      ? `principal ${r.principalId} (${r.principalType ?? 'type unknown'})`
      : r.identity === 'kubelet'
        ? `the cluster's kubelet identity (principal ${r.principalId})`
        : `the ${r.identity} identity`;
  const limit = r.repositories
    ? `, only repository ${r.repositories.join(' and ')} (condition)`
    : r.regrantOf
      ? ', all repositories (no condition)'
      : '';
  return `+ role ${r.role} for ${whom} on ${r.scope}${limit}${r.why ? `: ${r.why}` : ''}`;
}

export function planIsEmpty(plan: SetupPlan): boolean {
  return (
    plan.identities.length +
      plan.credentials.length +
      plan.roles.length +
      (plan.switchRegistry ? 1 : 0) +
      plan.environments.length +
      plan.variables.length ===
    0
  );
}

/** The lines to print for `plan`. */
export function renderPlan(plan: SetupPlan): string[] {
  const lines: string[] = [];
  for (const i of plan.identities)
    lines.push(`+ managed identity ${i.resourceGroup}/${i.name} (${i.identity})`);
  for (const c of plan.credentials)
    lines.push(
      `+ federated credential ${c.credential.name} on the ${c.identity} identity: subject ${c.credential.subject}, audience ${c.credential.audiences.join(', ')}`,
    );
  for (const r of plan.roles.filter((r) => r.regrantOf)) lines.push(describeRole(r));
  if (plan.switchRegistry)
    lines.push(
      `~ registry ${plan.switchRegistry}: role assignment mode LegacyRegistryPermissions -> AbacRepositoryPermissions (ABAC mode no longer honours AcrPull and AcrPush; the roles above keep their holders' access)`,
    );
  for (const r of plan.roles.filter((r) => !r.regrantOf)) lines.push(describeRole(r));
  for (const e of plan.environments)
    lines.push(`+ GitHub environment ${e.name}, deployments from branch ${e.branch} only`);
  for (const v of plan.variables) {
    const where = v.environment ? `environment ${v.environment}` : 'repository';
    const sign = v.current === undefined ? '+' : '~';
    const from = v.current === undefined ? '' : ` (was ${v.current})`;
    lines.push(`${sign} variable ${v.name} on the ${where} = ${v.value}${from}`);
  }
  if (planIsEmpty(plan)) lines.push('nothing to change');
  for (const r of plan.refusals) lines.push(`not done: ${r}`);
  for (const f of plan.findings) lines.push(`cluster: ${f}`);
  return lines;
}
