import { type EventContext, route } from '../../src/event.js';

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
    expect(route(push('refs/heads/topic'), 'auto')).toMatchObject({ job: 'deploy', defaultBranch: false });
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

  it('rolls back on workflow_dispatch and sweeps on schedule', () => {
    expect(route({ ...push('refs/heads/main'), eventName: 'workflow_dispatch' }, 'auto')).toEqual({
      job: 'rollback',
    });
    expect(route({ ...push('refs/heads/main'), eventName: 'schedule' }, 'auto')).toEqual({ job: 'sweep' });
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
