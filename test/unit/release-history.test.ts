import type { ReleaseInfo } from '../../src/kube/release/release.js';
import { lastDeployed, pausedRelease, staleReleases } from '../../src/kube/release/release.js';

// Which release records go when one more is made: the history's oldest, never the one a failure restores.

const record = (number: number, outcome: ReleaseInfo['outcome']): ReleaseInfo => ({
  number,
  sha: String(number).repeat(40).slice(0, 40),
  image: `r@sha256:${number}`,
  created: '',
  outcome,
  note: '',
  secret: `app-release-v${number}`,
});

describe('the release history', () => {
  it('deletes the oldest beyond the history when one more is made', () => {
    const existing = [1, 2, 3, 4, 5].map((n) => record(n, n === 5 ? 'deployed' : 'superseded'));
    expect(staleReleases(existing, 4).map((r) => r.number)).toEqual([1, 2]);
    expect(staleReleases(existing, 10)).toEqual([]);
  });

  it('keeps the newest deployed release however many failed after it', () => {
    // a canary benchmark found it: ten aborted deploys in a row deleted the release they restored
    const existing = [
      record(1, 'superseded'),
      record(2, 'deployed'),
      ...[3, 4, 5, 6].map((n) => record(n, 'failed')),
    ];
    expect(staleReleases(existing, 3).map((r) => r.number)).toEqual([1, 3, 4]);
  });

  it('finds the paused release only when it is the newest, and never restores one', () => {
    const paused = { ...record(3, 'paused'), pausedAt: 50 };
    const releases = [record(1, 'superseded'), record(2, 'deployed'), paused];
    expect(pausedRelease(releases)).toBe(paused);
    expect(lastDeployed(releases)?.number).toBe(2);
    expect(pausedRelease([...releases, record(4, 'failed')])).toBeUndefined();
    expect(pausedRelease([])).toBeUndefined();
  });
});
