import * as core from '@actions/core';
import type { getOctokit } from '@actions/github';
import { type RunEvent, runEvent } from '../runner.js';
import { errorText } from '../util/errors.js';
import { defaultPacing, type Pacing, rateLimitText, retryOptions, throttleOptions } from './rate-limits.js';

// The one seam every GitHub REST call goes through: @actions/github's octokit (GITHUB_API_URL, the runner's
// proxy settings) for the repository of the run, with octokit's retry plugin (server errors, network
// failures) and throttling plugin (writes one at a time, a second apart; primary and secondary rate limits
// waited out within bounds: rate-limits.ts). The GitHub side reports what the action did; a failed GitHub
// call is a warning, never the reason a deploy fails.

export type Octokit = ReturnType<typeof getOctokit>;

export interface GitHub {
  owner: string;
  repo: string;
  octokit: Octokit;
  /** the workflow run's page, for log links */
  runUrl: string;
  /** how requests are paced and rate limits waited for */
  pacing: Pacing;
}

/**
 * The GitHub side for this run, or undefined (with one info line) when there is no token to use. Octokit is
 * loaded only here, so a run without a token never pays for it.
 */
export async function connectGitHub(
  token: string,
  event: Pick<RunEvent, 'serverUrl' | 'runId'> = runEvent(),
  pacing: Partial<Pacing> = {},
): Promise<GitHub | undefined> {
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  if (!token) {
    core.info(
      "input 'github-token' is empty: no GitHub deployments or pull request comments for this run (a local run)",
    );
    return undefined;
  }
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) {
    core.info(
      `GITHUB_REPOSITORY is '${repository}', not owner/repo: no GitHub deployments or pull request comments for this run`,
    );
    return undefined;
  }
  const { serverUrl, runId } = event;
  const [github, { retry }, { throttling }] = await Promise.all([
    import('@actions/github'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const paced = { ...defaultPacing, ...pacing };
  return {
    owner,
    repo,
    octokit: github.getOctokit(
      token,
      { retry: retryOptions, throttle: throttleOptions(paced) },
      retry,
      throttling,
    ),
    runUrl: runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    pacing: paced,
  };
}

/**
 * One REST call. A failure names the call, GitHub's status and message, and the fix: for a rate limit when
 * it lifts, for 403/404 the `permissions:` the workflow must grant its token.
 */
export async function call<T>(
  gh: GitHub,
  what: string,
  permission: string,
  request: (octokit: Octokit) => Promise<{ data: T }>,
): Promise<T> {
  try {
    return (await request(gh.octokit)).data;
  } catch (error) {
    const status = (error as { status?: number }).status;
    const limited = rateLimitText(error, gh.pacing);
    if (limited) throw new Error(`GitHub API: ${what} failed (${status}): ${limited}`, { cause: error });
    // octokit appends ' - <documentation_url>' to GitHub's message
    const message = (errorText(error).split('\n')[0] ?? '').replace(/ - https?:\/\/\S+$/, '');
    let fix = '';
    if (status === 401) fix = "; input 'github-token' is not a valid token";
    else if (status === 403 || status === 404)
      fix = `; give the workflow 'permissions: ${permission}' (and a token that can see ${gh.owner}/${gh.repo})`;
    throw new Error(`GitHub API: ${what} failed${status ? ` (${status})` : ''}: ${message}${fix}`, {
      cause: error,
    });
  }
}

/** Runs a GitHub step in its own log group; a failure becomes a warning and undefined. */
export async function bestEffort<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await core.group(what, step);
  } catch (error) {
    core.warning(`${errorText(error)} (${what}; the deploy itself is not affected)`);
    return undefined;
  }
}
