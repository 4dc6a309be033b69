import { call, type GitHub } from './client.js';

// Whether a pull request is still open (REST API "Get a pull request"), for the preview sweep.

export type PullState = 'open' | 'closed';

export async function pullState(gh: GitHub, pr: number): Promise<PullState> {
  const pull = await call(gh, `read pull request #${pr}`, 'pull-requests: read', (o) =>
    o.rest.pulls.get({ owner: gh.owner, repo: gh.repo, pull_number: pr }),
  );
  if (pull.state !== 'open' && pull.state !== 'closed')
    throw new Error(
      `GitHub API: pull request #${pr} has state '${String(pull.state)}', neither open nor closed`,
    );
  return pull.state;
}
