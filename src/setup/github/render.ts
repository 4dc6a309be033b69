// The GitHub plan as lines, like ../print.ts renders the rest: one line per change, then what is not done.
import type { GitHubChange, GitHubPlan } from './plan.js';
import { type Reviewer, reviewerName } from './state.js';

export function describeGitHubChange(change: GitHubChange): string {
  switch (change.kind) {
    case 'environment': {
      const reviewers = describeReviewers(change.reviewers, change.body.prevent_self_review === true);
      const before = change.before
        ? ` (was: ${describeReviewers(change.before.reviewers, change.before.preventSelfReview) || 'no required reviewers'})`
        : '';
      return `${change.create ? '+' : '~'} GitHub environment ${change.name}: deployments from custom branch policies only${reviewers ? `; ${reviewers}` : ''}${before}`;
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

/** `required reviewers alice, my-org/deployers, self-review prevented`; '' for none. */
function describeReviewers(reviewers: Reviewer[], preventSelfReview: boolean): string {
  if (reviewers.length === 0) return '';
  return `required reviewers ${reviewers.map(reviewerName).join(', ')}, self-review ${preventSelfReview ? 'prevented' : 'allowed'}`;
}
