// The environment's required reviewers, as `--reviewer <login>` (a user) or `--reviewer <org>/<team-slug>`
// (a team) name them, resolved to the ids GitHub's environment API takes: users/get-by-username and
// teams/get-by-name. One that does not exist, an organization given as a user, or a team where the repository
// cannot have one is a refusal naming the flag's value, so the plan still prints and nothing is written.
import type { GitHub } from '../../github/client.js';
import { setupCall, statusOf } from './connect.js';
import { githubLimits } from './limits.js';
import type { GitHubState, Reviewer } from './state.js';

/** A `--reviewer` value, as given. */
export type ReviewerName =
  | { kind: 'user'; value: string; login: string }
  | { kind: 'team'; value: string; org: string; slug: string };

/** GitHub takes at most six users or teams as an environment's required reviewers. */
export const maxReviewers = 6;

const login = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const teamSlug = /^[A-Za-z0-9_.-]{1,100}$/;

/** `alice` → a user, `my-org/deployers` → a team; anything else names the value and the two forms. */
export function parseReviewer(value: string): ReviewerName {
  const [first = '', second, ...rest] = value.split('/');
  if (second === undefined && login.test(first)) return { kind: 'user', value, login: first };
  if (second !== undefined && rest.length === 0 && login.test(first) && teamSlug.test(second))
    return { kind: 'team', value, org: first, slug: second };
  throw new Error(
    `--reviewer '${value}' is neither a user's login (like octocat) nor <organization>/<team-slug> (like my-org/deployers)`,
  );
}

/** Checks the flag's values together: no repeats, at most six. */
export function checkReviewers(names: ReviewerName[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    const key = name.value.toLowerCase();
    if (seen.has(key)) throw new Error(`--reviewer '${name.value}' is given twice`);
    seen.add(key);
  }
  if (names.length > maxReviewers)
    throw new Error(
      `--reviewer is given ${names.length} times; GitHub takes at most ${maxReviewers} users or teams as an environment's required reviewers: give a team instead of its members`,
    );
}

export interface ResolvedReviewers {
  /** their ids, with the names the plan shows */
  reviewers: Reviewer[];
  /** why some cannot be reviewers; each names the flag's value and the fix */
  refusals: string[];
}

/**
 * The ids of `names`. Nothing is looked up where the plan sets no reviewers anyway (limits.ts: a private
 * repository without GitHub Enterprise), which the plan's limits then say.
 */
export async function resolveReviewers(
  gh: GitHub,
  state: Pick<GitHubState, 'owner' | 'repo' | 'ownerType' | 'private' | 'plan' | 'rulesetsAvailable'>,
  names: ReviewerName[],
  environment: string,
): Promise<ResolvedReviewers> {
  const limits = githubLimits(state, environment);
  const resolved: ResolvedReviewers = { reviewers: [], refusals: [] };
  if (!limits.environments || !limits.reviewers) return resolved;
  const repository = `${state.owner}/${state.repo}`;
  for (const name of names) {
    const flag = `--reviewer '${name.value}'`;
    if (name.kind === 'team' && state.ownerType !== 'Organization') {
      resolved.refusals.push(
        `${flag}: ${repository} belongs to the user ${state.owner}, and only an organization's repositories have teams; give users (--reviewer <login>)`,
      );
      continue;
    }
    if (name.kind === 'team' && name.org.toLowerCase() !== state.owner.toLowerCase()) {
      resolved.refusals.push(
        `${flag}: a team of ${name.org} cannot have access to ${repository}, which belongs to ${state.owner}, and reviewers need at least read access; give a team of ${state.owner} (${state.owner}/<team-slug>) or a user`,
      );
      continue;
    }
    const found = name.kind === 'user' ? await lookUpUser(gh, name) : await lookUpTeam(gh, name);
    if (typeof found === 'string') resolved.refusals.push(`${flag}: ${found}`);
    else resolved.reviewers.push(found);
  }
  return resolved;
}

/** users/get-by-username: the user, or why not (none, or an organization). */
async function lookUpUser(gh: GitHub, name: { login: string }): Promise<Reviewer | string> {
  const user = await orNotFound(() =>
    setupCall(gh, `looking up the user ${name.login}`, (o) =>
      o.rest.users.getByUsername({ username: name.login }),
    ),
  );
  if (!user) return `there is no GitHub user ${name.login}; check the login (github.com/${name.login})`;
  if (user.type === 'Organization')
    return `${user.login} is an organization, not a user; give one of its teams as ${user.login}/<team-slug>`;
  return { type: 'User', id: Number(user.id), name: user.login };
}

/** teams/get-by-name: the team, or why not (none the token can see). */
async function lookUpTeam(gh: GitHub, name: { org: string; slug: string }): Promise<Reviewer | string> {
  const team = await orNotFound(() =>
    setupCall(
      gh,
      `looking up the team ${name.org}/${name.slug}`,
      (o) => o.rest.teams.getByName({ org: name.org, team_slug: name.slug }),
      {
        403: `the token cannot read the teams of ${name.org}: it needs read:org (gh auth refresh -s read:org), or give users instead`,
      },
    ),
  );
  if (!team)
    return `there is no team ${name.slug} in organization ${name.org} that this token can see; check the team's slug (its address: github.com/orgs/${name.org}/teams/<slug>) and that the token can read the organization (read:org)`;
  return { type: 'Team', id: team.id, name: `${name.org}/${team.slug}` };
}

async function orNotFound<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (statusOf((error as { cause?: unknown }).cause) === 404) return undefined;
    throw error;
  }
}
