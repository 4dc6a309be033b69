import { type EventContext, globMatch, type Routing, route } from '../../src/event.js';

const repository = { full_name: 'team/archetype', default_branch: 'main' };

const push = (ref: string): EventContext => ({
  eventName: 'push',
  sha: 'a'.repeat(40),
  ref,
  payload: { repository },
});

const pullRequest = (action: string, headRepo = 'team/archetype'): EventContext => ({
  eventName: 'pull_request',
  sha: 'm'.repeat(40),
  ref: 'refs/pull/7/merge',
  payload: {
    action,
    repository,
    pull_request: {
      number: 7,
      head: { sha: 'b'.repeat(40), ref: 'feat/$(whoami)', repo: { full_name: headRepo } },
    },
  },
});

describe('route', () => {
  it('deploys a push, noting the default branch', () => {
    expect(route(push('refs/heads/main'), 'auto')).toEqual({
      job: 'deploy',
      sha: 'a'.repeat(40),
      defaultBranch: true,
    });
  });

  it('skips pushes that are not the default branch, tags and deletions, each with its reason', () => {
    const reason = (context: EventContext, routing: Routing | 'auto' = 'auto') => {
      const job = route(context, routing);
      return job.job === 'skip' ? job.reason : `not skipped: ${job.job}`;
    };
    expect(reason(push('refs/heads/topic'))).toBe(
      "a push to branch 'topic' is not deployed: production takes the default branch (input 'deploy-branches')",
    );
    expect(reason(push('refs/tags/v1.2.0'))).toBe(
      "a push of tag 'v1.2.0' is not deployed: no tags are (input 'deploy-tags')",
    );
    const deletion = {
      ...push('refs/heads/main'),
      payload: { repository, deleted: true, after: '0'.repeat(40) },
    };
    expect(reason(deletion)).toBe('refs/heads/main was deleted: there is no commit to deploy');
    // an explicit mode deploy does not deploy a deletion either
    expect(reason(deletion, { mode: 'deploy', deployBranches: [], deployTags: [] })).toBe(
      'refs/heads/main was deleted: there is no commit to deploy',
    );
  });

  it('deploys the branches and tags the inputs add', () => {
    const routing: Routing = { mode: 'auto', deployBranches: ['release/*'], deployTags: ['v*'] };
    expect(route(push('refs/heads/release/2026-11'), routing)).toMatchObject({
      job: 'deploy',
      defaultBranch: false,
    });
    expect(route(push('refs/heads/release/a/b'), routing)).toMatchObject({ job: 'skip' });
    expect(route(push('refs/tags/v1.2.0'), routing)).toMatchObject({ job: 'deploy', defaultBranch: false });
    expect(route(push('refs/tags/nightly'), routing)).toMatchObject({ job: 'skip' });
  });

  it('matches globs the way GitHub filters refs', () => {
    expect(globMatch('release/*', 'release/1')).toBe(true);
    expect(globMatch('release/*', 'release/1/2')).toBe(false);
    expect(globMatch('release/**', 'release/1/2')).toBe(true);
    expect(globMatch('v*.*', 'v1.2')).toBe(true);
    expect(globMatch('v1.2', 'v1x2')).toBe(false);
  });

  it.each(['opened', 'synchronize', 'reopened'])(
    'previews the head commit of a pull request %s',
    (action) => {
      expect(route(pullRequest(action), 'auto')).toEqual({ job: 'preview', pr: 7, sha: 'b'.repeat(40) });
    },
  );

  it('tears down a closed pull request', () => {
    expect(route(pullRequest('closed'), 'auto')).toEqual({ job: 'teardown', pr: 7 });
  });

  it('skips pull request actions that change nothing', () => {
    expect(route(pullRequest('labeled'), 'auto')).toEqual({
      job: 'skip',
      reason: "pull_request action 'labeled' needs no preview change",
    });
  });

  it('skips pull requests from forks with the reason', () => {
    const job = route(pullRequest('opened', 'stranger/archetype'), 'auto');
    expect(job.job).toBe('skip');
    expect(job.job === 'skip' && job.reason).toContain('from a fork (stranger/archetype)');
  });

  it('skips pull requests of a deleted fork and of Dependabot: they hold no credentials', () => {
    const deletedFork = pullRequest('closed');
    if (deletedFork.payload.pull_request?.head) deletedFork.payload.pull_request.head.repo = null;
    expect(route(deletedFork, 'auto')).toEqual({
      job: 'skip',
      reason:
        'pull request #7 comes from a repository that was deleted (a fork); such runs get no secrets or OIDC token, so no preview is there to tear down',
    });
    const bot = { ...pullRequest('opened'), actor: 'dependabot[bot]' };
    expect(route(bot, 'auto')).toMatchObject({
      job: 'skip',
      reason: expect.stringContaining('was opened or updated by dependabot[bot]'),
    });
  });

  it('rolls back on workflow_dispatch and sweeps on schedule', () => {
    expect(route({ ...push('refs/heads/main'), eventName: 'workflow_dispatch' }, 'auto')).toEqual({
      job: 'rollback',
    });
    expect(route({ ...push('refs/heads/main'), eventName: 'schedule' }, 'auto')).toEqual({ job: 'sweep' });
  });

  it('promotes or aborts a paused canary only when the mode says so', () => {
    const dispatch = { ...push('refs/heads/main'), eventName: 'workflow_dispatch' };
    expect(route(dispatch, 'promote')).toEqual({ job: 'promote' });
    expect(route(dispatch, 'abort')).toEqual({ job: 'abort' });
    // a second job of the deploy's own workflow run (the gate) runs on its push event
    expect(route(push('refs/heads/main'), 'promote')).toEqual({ job: 'promote' });
  });

  it('lets the mode input override the event', () => {
    expect(route({ ...push('refs/heads/main'), eventName: 'workflow_dispatch' }, 'sweep')).toEqual({
      job: 'sweep',
    });
  });

  it('explains events it cannot route', () => {
    expect(() => route({ ...push('refs/heads/main'), eventName: 'issues' }, 'auto')).toThrow(
      "event 'issues' has no default job; set input mode",
    );
    expect(() => route(push('refs/heads/main'), 'preview')).toThrow(
      "mode 'preview' needs a pull_request event",
    );
  });
});
