// The GitHub plan as lines, like ../print.ts renders the rest: one line per change, then what is not done.
import type { GitHubChange, GitHubPlan } from './plan.js';

export function describeGitHubChange(change: GitHubChange): string {
  switch (change.kind) {
    case 'environment': {
      const reviewers = change.body.reviewers?.length
        ? `, ${change.body.reviewers.length} required reviewer(s), self-review ${change.body.prevent_self_review ? 'prevented' : 'allowed'}`
        : '';
      return `${change.create ? '+' : '~'} GitHub environment ${change.name}: deployments from custom branch policies only${reviewers}`;
    }
    case 'branch-policy':
      return `+ deployment branch policy ${change.branch} on environment ${change.environment}`;
    case 'variable': {
      const v = change.variable;
      const where = v.environment ? `environment ${v.environment}` : 'repository';
      const from = v.current === undefined ? '' : ` (was ${v.current})`;
      return `${v.current === undefined ? '+' : '~'} variable ${v.name} on the ${where} = ${v.value}${from}`;
    }
    case 'workflow-permissions':
      return `~ "Allow GitHub Actions to create and approve pull requests" off${change.current === undefined ? '' : ' (was on)'}`;
    case 'ruleset': {
      const checks = change.body.rules
        .flatMap((r) => (r.type === 'required_status_checks' ? r.parameters.required_status_checks : []))
        .map((c) => c.context);
      const what = `pull request with 1 approving review${checks.length ? `, checks ${checks.join(', ')}` : ''}`;
      return `${change.id === undefined ? '+' : '~'} ruleset ${change.body.name} on the default branch: ${what}`;
    }
    case 'oidc-template':
      return `~ OIDC subject template: ${change.template.include_claim_keys?.join(', ')} (was ${change.current.use_default ? 'the default' : (change.current.include_claim_keys ?? []).join(', ')})`;
  }
}

export function renderGitHubPlan(plan: GitHubPlan): string[] {
  const lines = plan.changes.map(describeGitHubChange);
  if (plan.changes.length === 0) lines.push('GitHub: nothing to change');
  for (const limit of plan.limits) lines.push(`not done: ${limit}`);
  for (const refusal of plan.refusals) lines.push(`refused: ${refusal}`);
  return lines;
}
