import { type EventContext, route } from '../../src/event.js';
import { commentBody, commentMarker } from '../../src/github/comments.js';
import { findRevision, type RevisionRow, validTargets } from '../../src/jobs/rollback.js';
import { type Preview, previewsOf, verdict } from '../../src/jobs/sweep.js';
import type { Namespace } from '../../src/kube/client/namespace.js';
import { getMode } from '../../src/settings.js';
import { formatAge } from '../../src/util/duration.js';
import { readerFor } from '../helpers/action-inputs.js';

// The pure parts of previews, teardowns, sweeps and rollbacks: routing, the sweep's verdicts, the rollback's
// target resolution, and the pull request comment.

const day = 86_400_000;
const now = new Date('2026-03-10T12:00:00Z');

describe('routing of teardowns and forks', () => {
  const dispatch: EventContext = {
    eventName: 'workflow_dispatch',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    payload: { repository: { full_name: 'team/archetype', default_branch: 'main' } },
  };

  it('lets a dispatch tear down the preview named by input environment', () => {
    expect(route(dispatch, 'teardown')).toEqual({ job: 'teardown' });
  });

  it('skips the close of a fork pull request: it never had a preview', () => {
    const closed: EventContext = {
      ...dispatch,
      eventName: 'pull_request',
      payload: {
        action: 'closed',
        repository: { full_name: 'team/archetype' },
        pull_request: { number: 8, head: { sha: 'b'.repeat(40), repo: { full_name: 'stranger/archetype' } } },
      },
    };
    const job = route(closed, 'auto');
    expect(job).toEqual({
      job: 'skip',
      reason:
        'pull request #8 comes from a fork (stranger/archetype); such runs get no secrets or OIDC token, so no preview is there to tear down',
    });
  });

  it('reads the mode alone, before any other input is checked', () => {
    expect(getMode(readerFor({ mode: 'sweep', registry: '' }))).toBe('sweep');
    expect(() => getMode(readerFor({ mode: 'destroy' }))).toThrow(
      "input 'mode': 'destroy' is not one of auto, deploy, preview, teardown, sweep, rollback",
    );
  });
});

describe('sweep', () => {
  const ns = (
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string> = {},
  ): Namespace => ({
    metadata: { name, labels, annotations, creationTimestamp: '2026-03-01T00:00:00Z' },
    status: { phase: 'Active' },
  });
  const labels = (instance: string, pr: string) => ({
    'app.kubernetes.io/managed-by': 'archetype-deploy',
    'app.kubernetes.io/instance': instance,
    'archetype-deploy.github.io/pr': pr,
  });

  it('finds this app’s previews only, with their last deploy time', () => {
    const previews = previewsOf(
      [
        ns('archetype-pr-7', labels('archetype-pr-7', '7'), {
          'archetype-deploy.github.io/updated-at': '2026-03-09T12:00:00Z',
        }),
        ns('archetype-pr-8', labels('archetype-pr-8', '8')),
        ns('archetype-api-pr-7', labels('archetype-api-pr-7', '7')),
        ns('archetype-pr-9', labels('archetype-pr-9', '10')),
        ns('archetype', labels('archetype', 'x')),
      ],
      'archetype',
    );
    expect(previews).toEqual([
      { namespace: 'archetype-pr-7', pr: 7, updatedAt: new Date('2026-03-09T12:00:00Z'), terminating: false },
      { namespace: 'archetype-pr-8', pr: 8, updatedAt: new Date('2026-03-01T00:00:00Z'), terminating: false },
    ]);
  });

  const preview = (ageMs: number, terminating = false): Preview => ({
    namespace: 'archetype-pr-7',
    pr: 7,
    updatedAt: new Date(now.getTime() - ageMs),
    terminating,
  });

  it.each([
    ['a closed pull request', preview(day), 'closed', true, 'pull request #7 is closed'],
    ['a stale open one', preview(8 * day), 'open', true, 'last deployed 8d ago, longer than preview-ttl 7d'],
    [
      'a fresh open one',
      preview(2 * 3_600_000 + 60_000),
      'open',
      false,
      'pull request #7 is open, last deployed 2h 1m ago (preview-ttl 7d)',
    ],
    [
      'a fresh one not checked',
      preview(day),
      undefined,
      false,
      'pull request #7 not checked, last deployed 1d ago',
    ],
    [
      'a fresh one whose state is unknown',
      preview(day),
      'GitHub API: ... failed (500)',
      false,
      'state of pull request #7 unknown',
    ],
    ['one already being deleted', preview(0, true), 'open', true, 'it was already being deleted'],
  ])('judges %s', (_what, p, state, remove, reason) => {
    const v = verdict(p, state, now, 7 * day);
    expect(v.delete).toBe(remove);
    expect(v.reason).toContain(reason);
  });

  it('formats ages', () => {
    expect([30_000, 42 * 60_000, 5 * 3_600_000, 3 * day + 4 * 3_600_000, 7 * day].map(formatAge)).toEqual([
      '30s',
      '42m',
      '5h',
      '3d 4h',
      '7d',
    ]);
  });
});

describe('rollback target', () => {
  const row = (revision: number, c: string, current = false): RevisionRow => ({
    revision,
    images: [`reg/archetype@sha256:${c.repeat(64)}`],
    created: '2026-03-01T00:00:00Z',
    changeCause: `${c.repeat(7)} deployed`,
    gitSha: c.repeat(40),
    current,
  });
  // revisions 1 (a), 3 (c), 4 (b, current): revision 2 was rolled back to and became 4
  const revisions = [row(1, 'a'), row(3, 'c'), row(4, 'b', true)];

  it('resolves previous to the newest revision older than the current one', () => {
    expect(findRevision({ kind: 'previous' }, revisions)?.revision).toBe(3);
    expect(findRevision({ kind: 'previous' }, [row(1, 'a', true)])).toBeUndefined();
  });

  it('resolves a revision number, and nothing for one that is gone', () => {
    expect(findRevision({ kind: 'revision', revision: 1 }, revisions)?.gitSha).toBe('a'.repeat(40));
    expect(findRevision({ kind: 'revision', revision: 2 }, revisions)).toBeUndefined();
  });

  it('resolves a git sha, short or full, by the annotation or else the change-cause', () => {
    expect(findRevision({ kind: 'image', ref: 'ccccccc' }, revisions)?.revision).toBe(3);
    expect(findRevision({ kind: 'image', ref: 'C'.repeat(40) }, revisions)?.revision).toBe(3);
    const { gitSha: _sha, ...noAnnotation } = row(5, 'd');
    expect(findRevision({ kind: 'image', ref: 'd'.repeat(40) }, [noAnnotation])?.revision).toBe(5);
    // a tag is for the registry to resolve
    expect(findRevision({ kind: 'image', ref: 'latest' }, revisions)).toBeUndefined();
  });

  it('lists the valid targets, newest first', () => {
    expect(validTargets(revisions)).toBe(
      'previous (= revision 3), 4 (git sha bbbbbbb, current), 3 (git sha ccccccc), 1 (git sha aaaaaaa)',
    );
    expect(validTargets([])).toBe('none (the Deployment has no revisions)');
  });
});

describe('pull request comment', () => {
  it('starts with the marker and escapes what it shows', () => {
    const body = commentBody('archetype', {
      environment: 'pr-7',
      status: 'failed',
      url: 'http://pr-7.preview.example/',
      image: 'reg/archetype@sha256:abc',
      digest: 'sha256:abc',
      revision: 2,
      commit: 'f'.repeat(40),
      detail: 'container <x> | crashed\nexit 1',
      runUrl: 'https://github.com/team/archetype/actions/runs/1',
      at: now,
    });
    expect(body.startsWith(commentMarker('archetype'))).toBe(true);
    expect(body).toContain('### ❌ Preview `pr-7` of archetype: failed');
    expect(body).toContain('> container &#60;x&#62; \\| crashed exit 1');
    expect(body).toContain('| URL | [http://pr-7.preview.example/](http://pr-7.preview.example/) |');
    expect(body).toContain('| Revision | 2 |');
    expect(body).toContain('| Commit | `ffffffffffff` |');
    expect(body).toContain('Updated 2026-03-10T12:00:00.000Z');
  });
});
