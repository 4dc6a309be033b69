// The plan as text, like `terraform plan`: one line per change, the refusals and findings after, and
// "nothing to change" when there is nothing to do.
import type { CredentialChange } from './federation-plan.js';
import type { VariableChange, WantedRole } from './plan.js';

export interface SetupPlan {
  /** identities to create, by role, with their resource group */
  identities: Array<{ identity: 'production' | 'preview'; name: string; resourceGroup: string }>;
  credentials: CredentialChange[];
  roles: WantedRole[];
  environments: Array<{ name: string; branch: string }>;
  variables: VariableChange[];
  /** what setup will not do, and why */
  refusals: string[];
  /** read-only findings (the cluster's), each with its fix */
  findings: string[];
}

export function planIsEmpty(plan: SetupPlan): boolean {
  return (
    plan.identities.length +
      plan.credentials.length +
      plan.roles.length +
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
  for (const r of plan.roles) lines.push(`+ role ${r.role} for the ${r.identity} identity on ${r.scope}`);
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
