// What GitHub offers this repository on its owner's plan (docs.github.com, "Managing environments for
// deployment" and "About rulesets"): public repositories get everything; private ones on GitHub Free get no
// environments and no rulesets; on Pro and Team environments, their branch policies and rulesets but
// required reviewers only on GitHub Enterprise. Pure: the plan says what it cannot do instead of failing.
import type { GitHubState } from './state.js';

export interface GitHubLimits {
  environments: boolean;
  reviewers: boolean;
  rulesets: boolean;
  /** each limit that applies, with what it leaves out and the way out */
  notes: string[];
}

export function githubLimits(
  state: Pick<GitHubState, 'owner' | 'repo' | 'private' | 'plan' | 'rulesetsAvailable'>,
  environment: string,
): GitHubLimits {
  const repository = `${state.owner}/${state.repo}`;
  if (!state.private) return { environments: true, reviewers: true, rulesets: true, notes: [] };
  // GitHub refuses rulesets with "Upgrade to GitHub Pro or make this repository public" on Free
  if (state.plan === 'free' || !state.rulesetsAvailable)
    return {
      environments: false,
      reviewers: false,
      rulesets: false,
      notes: [
        `${repository} is private and its owner is on GitHub Free, where environments (with their branch policies, variables and required reviewers) and rulesets are not available: environment ${environment}, its variables and the ruleset are not planned, and production deploys cannot sign in to Azure; make the repository public, or move the owner to GitHub Pro or Team (required reviewers: GitHub Enterprise)`,
      ],
    };
  if (state.plan === 'enterprise') return { environments: true, reviewers: true, rulesets: true, notes: [] };
  if (state.plan === undefined)
    return {
      environments: true,
      reviewers: true,
      rulesets: true,
      notes: [
        `setup cannot read the plan of ${state.owner}: on a private repository GitHub allows required reviewers only on GitHub Enterprise, and refuses them otherwise when the plan is applied`,
      ],
    };
  return {
    environments: true,
    reviewers: false,
    rulesets: true,
    notes: [
      `${repository} is private on GitHub ${state.plan}, where required reviewers need GitHub Enterprise: environment ${environment} gets its branch policy but no required reviewers; make the repository public or move to GitHub Enterprise for them`,
    ],
  };
}
