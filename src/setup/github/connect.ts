// The octokit setup talks to GitHub with: the action's own construction (src/github/client.ts: @actions/github
// with the retry and throttling plugins, writes paced, rate limits waited out within bounds), for the
// repository named on the command line rather than the run's, and errors that say what the caller can do.
import type { GitHub, Octokit } from '../../github/client.js';
import {
  defaultPacing,
  type Pacing,
  rateLimitText,
  retryOptions,
  throttleOptions,
} from '../../github/rate-limits.js';

export interface ConnectOptions {
  /** the REST API root; default GITHUB_API_URL, else https://api.github.com */
  baseUrl?: string;
  pacing?: Partial<Pacing>;
}

/** A GitHub connection for setup on owner/repo, with a user's token (setup runs from a terminal, not a job). */
export async function connectSetupGitHub(
  token: string,
  repository: { owner: string; repo: string },
  options: ConnectOptions = {},
): Promise<GitHub> {
  if (!token)
    throw new Error(
      'no GitHub token: set GITHUB_TOKEN to a token of a repository admin (e.g. GITHUB_TOKEN=$(gh auth token))',
    );
  const [github, { retry }, { throttling }] = await Promise.all([
    import('@actions/github'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const pacing = { ...defaultPacing, ...options.pacing };
  const baseUrl = options.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com';
  return {
    ...repository,
    octokit: github.getOctokit(
      token,
      // a 409 (a variable that exists, a setting the organization locks) is an answer, not a glitch to retry
      {
        baseUrl,
        retry: { ...retryOptions, doNotRetry: [...retryOptions.doNotRetry, 409] },
        throttle: throttleOptions(pacing),
      },
      retry,
      throttling,
    ),
    runUrl: '',
    pacing,
  };
}

/** The HTTP status of an octokit error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** GitHub's own message of an answer, without the documentation link octokit appends. */
export function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data?.message;
  const text = typeof data === 'string' ? data : error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').replace(/ - https?:\/\/\S+$/, '');
}

/**
 * One REST call of setup. A failure names the call, GitHub's status and message and the fix: for 401 the
 * token, for 403/404 the admin right on the repository and who grants it, for a rate limit when it lifts.
 */
export async function setupCall<T>(
  gh: GitHub,
  what: string,
  request: (octokit: Octokit) => Promise<{ data: T }>,
  /** a fix for a status that means something else for this call (e.g. 404: no such repository) */
  fixes: Record<number, string> = {},
): Promise<T> {
  try {
    return (await request(gh.octokit)).data;
  } catch (error) {
    const status = statusOf(error);
    const limited = rateLimitText(error, gh.pacing);
    const repository = `${gh.owner}/${gh.repo}`;
    let fix = '';
    if (limited) fix = `: ${limited}`;
    else if (status !== undefined && fixes[status]) fix = `; ${fixes[status]}`;
    else if (status === 401)
      fix = '; the token is not valid: sign in again (gh auth login) or make a new token';
    else if (status === 403 || status === 404)
      fix = `; setup needs admin on ${repository} and a token with the repo scope (fine-grained: Administration, Environments, Variables: write): ask an owner of ${repository}`;
    const message = githubMessage(error);
    throw new Error(
      `GitHub API: ${what} on ${repository} failed${status ? ` (${status})` : ''}${message ? `: ${message}` : ''}${fix}`,
      { cause: error },
    );
  }
}
