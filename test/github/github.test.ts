import { FakeGitHub } from '../fakes/github-server.js';
import { captureStdout, setEnv } from '../fakes/runner-env.js';

// The GitHub adapters (src/github) against FakeGitHub, which answers as the GitHub REST API documents:
// the requests they make (method, path, body), pagination, and the errors they turn answers into.

const token = 'ghs_adaptertesttoken';
const github = new FakeGitHub('team', 'archetype', token);
let restore: () => void;
let modules: {
  client: typeof import('../../src/github/client.js');
  deployments: typeof import('../../src/github/deployments.js');
  comments: typeof import('../../src/github/comments.js');
  pulls: typeof import('../../src/github/pulls.js');
  publish: typeof import('../../src/github/publish.js');
};

beforeAll(async () => {
  await github.start();
  // @actions/github reads GITHUB_API_URL when it is loaded: load it after the fake listens
  restore = setEnv({ GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'team/archetype', GITHUB_RUN_ID: '42' });
  modules = {
    client: await import('../../src/github/client.js'),
    deployments: await import('../../src/github/deployments.js'),
    comments: await import('../../src/github/comments.js'),
    pulls: await import('../../src/github/pulls.js'),
    publish: await import('../../src/github/publish.js'),
  };
});

afterAll(async () => {
  restore();
  await github.stop();
});

// writes 5 ms apart instead of the action's 1 s (comments 3 s), to keep the suite quick
async function connect(withToken = token) {
  const gh = await modules.client.connectGitHub(withToken, undefined, {
    writeIntervalMs: 5,
    notifyIntervalMs: 5,
  });
  if (!gh) throw new Error('expected a GitHub connection');
  return gh;
}

/** Runs fn with the action's stdout (groups, warnings) captured. */
async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const out = captureStdout();
  try {
    const value = await fn();
    return { value, output: out.output() };
  } finally {
    out.restore();
  }
}

describe('GitHub adapters against the fake REST API', () => {
  it('skips the GitHub side without a token, with one info line', async () => {
    const { value, output } = await quietly(async () => modules.client.connectGitHub(''));
    expect(value).toBeUndefined();
    expect(output).toContain("input 'github-token' is empty");
  });

  it('creates a deployment and its statuses with the documented bodies', async () => {
    const gh = await connect();
    const id = await modules.deployments.createDeployment(gh, {
      environment: 'pr-3',
      ref: 'c'.repeat(40),
      description: 'deploy ccccccc to pr-3',
      payload: { namespace: 'archetype-pr-3' },
    });
    await modules.deployments.setDeploymentStatus(gh, id, 'success', {
      description: 'revision 1 is serving',
      environmentUrl: 'http://pr-3.preview.example/',
      logUrl: gh.runUrl,
    });
    const [create] = github.made('POST', '/repos/team/archetype/deployments');
    expect(create?.body).toEqual({
      ref: 'c'.repeat(40),
      environment: 'pr-3',
      description: 'deploy ccccccc to pr-3',
      payload: { namespace: 'archetype-pr-3' },
      required_contexts: [],
      auto_merge: false,
      production_environment: false,
      transient_environment: true,
    });
    const [status] = github.made('POST', `/repos/team/archetype/deployments/${id}/statuses`);
    expect(status?.body).toEqual({
      state: 'success',
      description: 'revision 1 is serving',
      environment_url: 'http://pr-3.preview.example/',
      log_url: 'https://github.com/team/archetype/actions/runs/42',
      // GitHub's auto_inactive skips production and transient deployments: the action marks them itself
      auto_inactive: false,
    });
  });

  it('marks every deployment of an environment inactive', async () => {
    const gh = await connect();
    for (const ref of ['1', '2'])
      await modules.deployments.createDeployment(gh, {
        environment: 'pr-4',
        ref: ref.repeat(40),
        description: 'd',
        payload: {},
      });
    const done = await modules.deployments.deactivateEnvironment(gh, 'pr-4', 'preview removed');
    expect(done).toEqual({ marked: 2, left: 0 });
    for (const d of github.forEnvironment('pr-4'))
      expect(d.statuses.map((s) => s.state)).toEqual(['inactive']);
    expect(github.forEnvironment('pr-3')[0]?.statuses.at(-1)?.state).toBe('success');
  });

  it('finds the sticky comment past the first page and edits it in place', async () => {
    const gh = await connect();
    for (let i = 0; i < 130; i++) github.addComment(5, `comment ${i}`);
    expect(
      await modules.comments.upsertComment(
        gh,
        5,
        'archetype',
        `${modules.comments.commentMarker('archetype')}\nfirst`,
        { createIfMissing: true },
      ),
    ).toBe('created');
    expect(
      await modules.comments.upsertComment(
        gh,
        5,
        'archetype',
        `${modules.comments.commentMarker('archetype')}\nsecond`,
        { createIfMissing: true },
      ),
    ).toBe('updated');
    const sticky = github.comments.filter((c) => c.issue === 5 && c.user.type === 'Bot');
    expect(sticky.map((c) => c.body)).toEqual(['<!-- archetype-deploy:archetype -->\nsecond']);
    // the second lookup read page 2 to find it
    expect(github.made('GET', '/repos/team/archetype/issues/5/comments').map((r) => r.query.page)).toEqual([
      '1',
      '2',
      '1',
      '2',
    ]);
    // another app's comment is another comment
    expect(await modules.comments.upsertComment(gh, 5, 'other', 'x', { createIfMissing: false })).toBe(
      'none',
    );
  });

  it('reads whether a pull request is open, and explains a pull request it cannot see', async () => {
    const gh = await connect();
    github.pulls.set(9, 'closed');
    expect(await modules.pulls.pullState(gh, 9)).toBe('closed');
    await expect(modules.pulls.pullState(gh, 10)).rejects.toThrow(
      "GitHub API: read pull request #10 failed (404): Not Found; give the workflow 'permissions: pull-requests: read'",
    );
  });

  it('names a bad token', async () => {
    const gh = await connect('ghs_wrong');
    await expect(modules.pulls.pullState(gh, 9)).rejects.toThrow(
      "read pull request #9 failed (401): Bad credentials; input 'github-token' is not a valid token",
    );
  });

  it('publishes a failed preview as a failure status and a comment with the diagnosis, and rethrows', async () => {
    const gh = await connect();
    const failure = Object.assign(new Error('the rollout failed'), {
      result: {
        url: 'http://pr-6.preview.example/',
        image: '127.0.0.1:5000/archetype@sha256:'.concat('1'.repeat(64)),
        digest: `sha256:${'1'.repeat(64)}`,
        revision: 1,
        diagnosis: {
          summary: 'Deployment archetype revision 2 failed: its log ends with "<img src=x>"',
          publicSummary:
            'Deployment archetype revision 2 failed: pod x cannot pull image y (ImagePullBackOff) [link](http://x)',
        },
      },
    });
    const publication = modules.publish.deployPublication('archetype', 'd'.repeat(40), 6);
    const { output } = await quietly(() =>
      modules.publish.published(gh, publication, () => Promise.reject(failure)).catch((e: unknown) => e),
    );
    expect(output).not.toContain('::warning::');
    const [deployment] = github.forEnvironment('pr-6');
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(deployment?.statuses[1]?.description).toContain('ImagePullBackOff');
    const comment = github.comments.find((c) => c.issue === 6);
    expect(comment?.body).toContain('| Status | failed |');
    // the sentence without pod logs, with Markdown and HTML shown literally
    expect(comment?.body).toContain(
      '> Deployment archetype revision 2 failed: pod x cannot pull image y (ImagePullBackOff) \\[link\\](http://x)',
    );
    expect(comment?.body).not.toContain('img');
    expect(JSON.stringify(deployment?.statuses)).not.toContain('img');
  });

  it('leaves a paused canary in_progress, saying so, and earlier deployments active', async () => {
    const gh = await connect();
    const outcome = { url: 'http://app.example/', image: 'r@sha256:1', digest: 'sha256:1', revision: 0 };
    await quietly(() =>
      modules.publish.published(
        gh,
        modules.publish.deployPublication('archetype', 'e'.repeat(40)),
        async () => outcome,
      ),
    );
    const waiting = 'canary of release 4 paused at 50 %: promote or abort';
    await quietly(() =>
      modules.publish.published(
        gh,
        modules.publish.deployPublication('archetype', 'f'.repeat(40)),
        async () => ({
          ...outcome,
          waiting,
        }),
      ),
    );
    const byRef = (c: string) => github.forEnvironment('production').find((d) => d.ref === c.repeat(40));
    expect(byRef('f')?.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress']);
    expect(byRef('f')?.statuses[1]?.description).toBe(waiting);
    // what serves is still the earlier deployment: not marked inactive by a canary that has not deployed
    expect(byRef('e')?.statuses.at(-1)?.state).toBe('success');
  });

  it('publishes a failure without a diagnosis as a pointer to the run, quoting nothing', async () => {
    const gh = await connect();
    const failure = new Error('k8s/evil.yaml:3: <img src=x> is not a mapping');
    const publication = modules.publish.deployPublication('archetype', 'd'.repeat(40), 11);
    await quietly(() =>
      modules.publish.published(gh, publication, () => Promise.reject(failure)).catch((e: unknown) => e),
    );
    const [deployment] = github.forEnvironment('pr-11');
    expect(deployment?.statuses[1]?.description).toBe(
      "deploy ddddddd to pr-11 failed; the workflow run's log and job summary say why",
    );
    expect(github.comments.find((c) => c.issue === 11)?.body).not.toContain('img');
  });

  it("takes only the token's own comment for the sticky one, whoever else wrote the marker", async () => {
    const gh = await connect();
    const marker = modules.comments.commentMarker('archetype');
    github.addComment(12, `${marker}\nby someone else`, 'mallory');
    const patches = github.made('PATCH', /\/issues\/comments\/\d+$/).length;
    expect(
      await modules.comments.upsertComment(gh, 12, 'archetype', `${marker}\nours`, { createIfMissing: true }),
    ).toBe('created');
    expect(github.made('PATCH', /\/issues\/comments\/\d+$/).length).toBe(patches);
    expect(github.comments.filter((c) => c.issue === 12).map((c) => [c.user.login, c.body])).toEqual([
      ['mallory', `${marker}\nby someone else`],
      ['github-actions[bot]', `${marker}\nours`],
    ]);
    // with a user's token (a PAT), that user's comments are the action's
    github.userLogin = 'deploy-bot';
    try {
      const asUser = await connect();
      github.addComment(13, `${marker}\nold`, 'deploy-bot');
      expect(
        await modules.comments.upsertComment(asUser, 13, 'archetype', `${marker}\nnew`, {
          createIfMissing: true,
        }),
      ).toBe('updated');
    } finally {
      github.userLogin = undefined;
    }
    // a GitHub App's installation token is refused at GET /user too, and writes as <app>[bot]: its comment is
    // found again by the marker on a bot's comment, not posted anew on every run
    github.botLogin = 'deploy-app[bot]';
    try {
      const asApp = await connect();
      for (const text of ['first', 'second'])
        await modules.comments.upsertComment(asApp, 14, 'archetype', `${marker}\n${text}`, {
          createIfMissing: true,
        });
      expect(github.comments.filter((c) => c.issue === 14).map((c) => [c.user.login, c.body])).toEqual([
        ['deploy-app[bot]', `${marker}\nsecond`],
      ]);
    } finally {
      github.botLogin = 'github-actions[bot]';
    }
  });

  it('turns a GitHub failure into a warning: the deploy goes on', async () => {
    const gh = await connect('ghs_wrong');
    const publication = modules.publish.deployPublication('archetype', 'e'.repeat(40));
    const { value, output } = await quietly(() =>
      modules.publish.published(gh, publication, async () => ({
        url: '',
        image: 'i',
        digest: 'd',
        revision: 3,
      })),
    );
    expect(value.revision).toBe(3);
    expect(output).toMatch(
      /::warning::GitHub API: create a deployment to production failed \(401\): Bad credentials/,
    );
  });
});
