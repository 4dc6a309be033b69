// The ruleset production relies on: on the default branch, changes only through a pull request with one
// approving review (the last push approved by someone else), and the required checks passing. Pure.
import { type RulesetState, rulesetName } from './state.js';

/** The two rules setup sets, as `repository-rule-pull-request` and `-required-status-checks` describe them. */
export type RulesetRule =
  | {
      type: 'pull_request';
      parameters: {
        required_approving_review_count: number;
        dismiss_stale_reviews_on_push: boolean;
        require_code_owner_review: boolean;
        require_last_push_approval: boolean;
        required_review_thread_resolution: boolean;
      };
    }
  | {
      type: 'required_status_checks';
      parameters: {
        strict_required_status_checks_policy: boolean;
        required_status_checks: Array<{ context: string }>;
      };
    };

/** The body of `repos/create-repo-ruleset` / `repos/update-repo-ruleset`. */
export interface RulesetBody {
  name: string;
  target: 'branch';
  enforcement: 'active';
  conditions: { ref_name: { include: string[]; exclude: string[] } };
  rules: RulesetRule[];
}

/** The wanted ruleset for the required status check contexts (e.g. ['ci', 'check-dist']). */
export function wantedRuleset(requiredChecks: string[]): RulesetBody {
  const rules: RulesetBody['rules'] = [
    {
      type: 'pull_request',
      parameters: {
        required_approving_review_count: 1,
        dismiss_stale_reviews_on_push: true,
        require_code_owner_review: false,
        require_last_push_approval: true,
        required_review_thread_resolution: false,
      },
    },
  ];
  if (requiredChecks.length > 0)
    rules.push({
      type: 'required_status_checks',
      parameters: {
        strict_required_status_checks_policy: false,
        required_status_checks: requiredChecks.map((context) => ({ context })),
      },
    });
  return {
    name: rulesetName,
    target: 'branch',
    enforcement: 'active',
    // ~DEFAULT_BRANCH: GitHub's own name for the default branch, so a rename keeps the ruleset on it
    conditions: { ref_name: { include: ['~DEFAULT_BRANCH'], exclude: [] } },
    rules,
  };
}

/** Whether an existing ruleset already is the wanted one: same target, enforcement, condition and rules. */
export function rulesetMatches(existing: RulesetState, wanted: RulesetBody): boolean {
  const ref = (existing.conditions as { ref_name?: { include?: string[] } } | null)?.ref_name?.include ?? [];
  if (existing.target !== wanted.target || existing.enforcement !== wanted.enforcement) return false;
  if (!sameSet(ref, wanted.conditions.ref_name.include)) return false;
  if (existing.rules.length !== wanted.rules.length) return false;
  return wanted.rules.every((want) => {
    const have = existing.rules.find((r) => r.type === want.type);
    if (!have) return false;
    return Object.entries(want.parameters).every(([key, value]) => {
      const current = have.parameters?.[key];
      if (key === 'required_status_checks')
        return sameSet(
          contexts(current as Array<{ context: string }> | undefined),
          contexts(value as Array<{ context: string }>),
        );
      return current === value;
    });
  });
}

function contexts(checks: Array<{ context: string }> | undefined): string[] {
  return (checks ?? []).map((c) => c.context);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
