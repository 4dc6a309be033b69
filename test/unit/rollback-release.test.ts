import { findRelease, validReleaseTargets } from '../../src/jobs/rollback-release.js';
import type { Outcome, ReleaseInfo } from '../../src/kube/release/release.js';

// Which release a manual rollback restores, from the release records alone.

const release = (number: number, outcome: Outcome, sha: string): ReleaseInfo => ({
  number,
  outcome,
  sha: sha.repeat(40).slice(0, 40),
  image: `r/app@sha256:${String(number).repeat(64).slice(0, 64)}`,
  created: `2026-12-01T00:0${number}:00Z`,
  note: '',
  secret: `app-release-v${number}`,
});

// 1 and 2 served; 3 failed and was rolled back; 4 serves now
const releases = [
  release(1, 'superseded', 'a'),
  release(2, 'superseded', 'b'),
  release(3, 'failed', 'c'),
  release(4, 'deployed', 'd'),
];

describe('findRelease', () => {
  it('takes previous as the newest release that served before the current one, skipping failed ones', () => {
    expect(findRelease({ kind: 'previous' }, releases)?.number).toBe(2);
    expect(findRelease({ kind: 'previous' }, [release(1, 'deployed', 'a')])).toBeUndefined();
  });

  it('takes a number as a release number, never a failed or pending one', () => {
    expect(findRelease({ kind: 'revision', revision: 1 }, releases)?.number).toBe(1);
    expect(findRelease({ kind: 'revision', revision: 3 }, releases)).toBeUndefined();
    expect(findRelease({ kind: 'revision', revision: 9 }, releases)).toBeUndefined();
  });

  it('takes a git sha (or its prefix) as the newest release of that commit', () => {
    expect(findRelease({ kind: 'image', ref: 'bbbbbbb' }, releases)?.number).toBe(2);
    expect(findRelease({ kind: 'image', ref: 'c'.repeat(40) }, releases)).toBeUndefined();
    // a tag is not a sha: the registry decides (rollback.ts)
    expect(findRelease({ kind: 'image', ref: 'v1.2.0' }, releases)).toBeUndefined();
  });
});

it('lists the valid targets, newest first, with previous and the current one named', () => {
  expect(validReleaseTargets(releases)).toBe(
    'previous (= release 2), 4 (git sha ddddddd, current), 2 (git sha bbbbbbb), 1 (git sha aaaaaaa)',
  );
});
