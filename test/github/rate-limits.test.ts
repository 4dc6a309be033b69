import { FakeGitHub } from '../fakes/github-server.js';
import { captureStdout, setEnv } from '../fakes/runner-env.js';

// The GitHub side under GitHub's rate limits and with deployments GitHub does not mark inactive itself, against
// FakeGitHub answering as the docs say:
// - "Rate limits for the REST API" (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api,
//   "Exceeding the rate limit"): a primary limit is 403/429 with x-ratelimit-remaining 0, not retried before
//   x-ratelimit-reset; a secondary one is 403/429 with "You have exceeded a secondary rate limit", retried
//   after retry-after seconds, else at least a minute, and given up after a few retries. "About secondary
//   rate limits": no more than 80 content-generating requests a minute, 500 an hour.
// - "Best practices for using the REST API": requests serially, at least one second between writes.
// - "Create a deployment status" (rest/deployments/statuses): auto_inactive "adds a new inactive status to all
//   prior non-transient, non-production environment deployments" that had a success state: never the
//   action's (production, or a transient preview), so the action marks them itself.

const token = 'ghs_ratelimittesttoken';
const github = new FakeGitHub('team', 'archetype', token);
let restore: () => void;
let modules: {
  client: typeof import('../../src/github/client.js');
  deployments: typeof import('../../src/github/deployments.js');
  publish: typeof import('../../src/github/publish.js');
};

beforeAll(async () => {
  await github.start();
  // @actions/github reads GITHUB_API_URL when it is loaded: load it after the fake listens
  restore = setEnv({ GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'team/archetype', GITHUB_RUN_ID: '42' });
  modules = {
    client: await import('../../src/github/client.js'),
    deployments: await import('../../src/github/deployments.js'),
    publish: await import('../../src/github/publish.js'),
  };
});

afterAll(async () => {
  restore();
  await github.stop();
});

beforeEach(() => {
  github.latencyMs = 0;
  github.maxWritesInFlight = 0;
});

// writes 5 ms apart instead of the action's 1 s (comments 3 s), to keep the suite quick; the waits for limits are GitHub's
async function connect() {
  const gh = await modules.client.connectGitHub(token, undefined, {
    writeIntervalMs: 5,
    notifyIntervalMs: 5,
  });
  if (!gh) throw new Error('expected a GitHub connection');
  return gh;
}

async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const out = captureStdout();
  try {
    const value = await fn();
    return { value, output: out.output() };
  } finally {
    out.restore();
  }
}

const statusPosts = (id: number) => github.made('POST', `/repos/team/archetype/deployments/${id}/statuses`);

describe('GitHub rate limits, as the REST API answers them', () => {
  it('waits out a secondary limit for its retry-after, then the request goes through', async () => {
    const gh = await connect();
    const { id } = github.addDeployment('pr-40', ['in_progress']);
    github.rateLimit({ kind: 'secondary', retryAfter: 1, method: 'POST', path: /\/statuses$/ });
    const { output } = await quietly(() =>
      modules.deployments.setDeploymentStatus(gh, id, 'success', { description: 'revision 1 is serving' }),
    );
    const posts = statusPosts(id);
    expect(posts.map((r) => r.limited)).toEqual(['secondary', undefined]);
    // not before retry-after had passed
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(github.forEnvironment('pr-40')[0]?.statuses.map((s) => s.state)).toEqual([
      'in_progress',
      'success',
    ]);
    expect(output).toContain(
      `GitHub's secondary rate limit answered POST /repos/team/archetype/deployments/${id}/statuses: waiting 1 s as GitHub asks, then retry 1 of 2`,
    );
  });

  it('fails at once, naming the limit and the wait, when retry-after is beyond the bound', async () => {
    const gh = await connect();
    const { id } = github.addDeployment('pr-41', ['in_progress']);
    github.rateLimit({ kind: 'secondary', retryAfter: 120, method: 'POST', path: /\/statuses$/ });
    await expect(
      modules.deployments.setDeploymentStatus(gh, id, 'success', { description: 'x' }),
    ).rejects.toThrow(
      new RegExp(
        `^GitHub API: set deployment ${id} to success failed \\(403\\): GitHub's secondary rate limit .*"You have exceeded a secondary rate limit\\. Please wait a few minutes before you try again\\..*"; GitHub asks to wait 120 s \\(retry-after\\), longer than the 60 s this action waits: then run the job again`,
      ),
    );
    expect(statusPosts(id).map((r) => r.limited)).toEqual(['secondary']);
    expect(github.forEnvironment('pr-41')[0]?.statuses.map((s) => s.state)).toEqual(['in_progress']);
  });

  it('gives up after its retries on a secondary limit that persists (429), and retries it no further', async () => {
    const gh = await connect();
    const { id } = github.addDeployment('pr-42', ['in_progress']);
    github.rateLimit({ kind: 'secondary', status: 429, retryAfter: 1, times: 3, path: /\/statuses$/ });
    const error = await quietly(() =>
      modules.deployments.setDeploymentStatus(gh, id, 'failure', { description: 'x' }),
    ).catch((e: unknown) => e as Error);
    expect(String(error)).toContain(
      `GitHub API: set deployment ${id} to failure failed (429): GitHub's secondary rate limit`,
    );
    expect(String(error)).toContain(
      'GitHub asks to wait 1 s (retry-after), and a run waits out at most 2 such answers to a request',
    );
    // the first answer and two retries; octokit's retry plugin leaves 429 to the throttling
    expect(statusPosts(id).map((r) => r.limited)).toEqual(['secondary', 'secondary', 'secondary']);
  });

  it('fails a primary limit at once, naming when it resets', async () => {
    const gh = await connect();
    github.rateLimit({ kind: 'primary', resetInSeconds: 1800, method: 'GET', path: /\/deployments$/ });
    const before = github.requests.length;
    const error = await modules.deployments
      .deactivateEnvironment(gh, 'pr-43', 'preview removed')
      .catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(
      /GitHub API: list the deployments to pr-43 failed \(403\): the token's primary rate limit is used up \(1000 requests an hour\): "API rate limit exceeded for installation ID 1\."; it resets at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, in (29|30) min \(x-ratelimit-reset\), later than the 60 s this action waits/,
    );
    expect(github.requests.slice(before).map((r) => r.limited)).toEqual(['primary']);
  });
});

describe('deployments marked inactive by the action', () => {
  it('marks the earlier active production deployment inactive when a deploy succeeds', async () => {
    const gh = await connect();
    const older = github.addDeployment('production', ['in_progress', 'success', 'inactive']);
    const active = github.addDeployment('production', ['in_progress', 'success']);
    const failed = github.addDeployment('production', ['in_progress', 'failure']);
    const preview = github.addDeployment('pr-44', ['in_progress', 'success']);
    const outcome = { url: 'http://archetype.example/', image: 'i', digest: 'd', revision: 7 };
    await quietly(() =>
      modules.publish.published(
        gh,
        modules.publish.deployPublication('archetype', 'f'.repeat(40)),
        async () => outcome,
      ),
    );
    const states = (d: { id: number }) =>
      github.deployments.find((x) => x.id === d.id)?.statuses.map((s) => s.state);
    const newest = github.forEnvironment('production').at(-1);
    expect(newest?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(states(active)).toEqual(['in_progress', 'success', 'inactive']);
    expect(active.statuses.at(-1)?.description).toBe(`superseded by deployment ${newest?.id}`);
    // a failure was never active; the one already inactive is where the reading stopped
    expect(states(failed)).toEqual(['in_progress', 'failure']);
    expect(states(older)).toEqual(['in_progress', 'success', 'inactive']);
    expect(github.made('GET', `/repos/team/archetype/deployments/${older.id}/statuses`)).toHaveLength(1);
    expect(states(preview)).toEqual(['in_progress', 'success']);
  });

  it('marks a removed preview inactive one request at a time, oldest first', async () => {
    const gh = await connect();
    const ids = [
      github.addDeployment('pr-45', ['in_progress', 'success', 'inactive']).id,
      ...[1, 2, 3, 4, 5].map(() => github.addDeployment('pr-45', ['in_progress', 'success']).id),
      github.addDeployment('pr-45', ['in_progress', 'failure']).id,
    ];
    // each answer takes a while, so that writes sent together would be seen together
    github.latencyMs = 30;
    const { value } = await quietly(() =>
      modules.publish.publishRemoval(gh, 'archetype', [
        { pr: 45, namespace: 'archetype-pr-45', reason: 'pull request closed' },
      ]),
    );
    expect(value).toEqual(['pr-45: 6 deployment(s) marked inactive']);
    expect(github.maxWritesInFlight).toBe(1);
    const marked = github
      .made('POST', /\/deployments\/\d+\/statuses$/)
      .filter((r) => r.body?.state === 'inactive' && ids.some((id) => r.path.includes(`/${id}/`)))
      .map((r) => Number(r.path.split('/')[5]));
    expect(marked).toEqual(ids.slice(1));
    for (const d of github.forEnvironment('pr-45')) expect(d.statuses.at(-1)?.state).toBe('inactive');
  });

  it('marks at most 100 in a run and names the rest in a notice', async () => {
    const gh = await connect();
    for (const pr of [46, 47]) for (let i = 0; i < 60; i++) github.addDeployment(`pr-${pr}`, ['success']);
    const { value, output } = await quietly(() =>
      modules.publish.publishRemoval(
        gh,
        'archetype',
        [46, 47].map((pr) => ({ pr, namespace: `archetype-pr-${pr}`, reason: 'pull request closed' })),
      ),
    );
    expect(value).toEqual([
      'pr-46: 60 deployment(s) marked inactive',
      'pr-47: 40 deployment(s) marked inactive, 20 left active',
    ]);
    expect(output).toContain('::notice::GitHub deployments left active: 20 of pr-47 (the newest of each).');
    const states = github.forEnvironment('pr-47').map((d) => d.statuses.at(-1)?.state);
    // the oldest first: the newest 20 are left, for a later reading to find before any inactive one
    expect(states.slice(0, 40)).toEqual(states.slice(0, 40).map(() => 'inactive'));
    expect(states.slice(40)).toEqual(states.slice(40).map(() => 'success'));
    expect(states.slice(40)).toHaveLength(20);
  });
});
