import { allOrFirstFailure } from '../../src/util/parallel.js';
import { sleep } from '../../src/util/sleep.js';

// The workloads of a set are tracked at once: the first failure stops the others, and nothing runs on.

/** A task that polls until done or stopped, recording how it ended. */
const poller =
  (ends: string[], name: string, rounds: number, fail = false) =>
  async (signal: AbortSignal) => {
    for (let i = 0; i < rounds; i++) {
      if (signal.aborted) {
        ends.push(`${name} stopped`);
        throw signal.reason;
      }
      await sleep(20, signal);
    }
    if (fail) {
      ends.push(`${name} failed`);
      throw new Error(`${name} failed`);
    }
    ends.push(`${name} done`);
    return name;
  };

describe('allOrFirstFailure', () => {
  it('returns every result in order when all succeed', async () => {
    const ends: string[] = [];
    await expect(allOrFirstFailure([poller(ends, 'a', 3), poller(ends, 'b', 1)])).resolves.toEqual([
      'a',
      'b',
    ]);
    expect(ends).toEqual(['b done', 'a done']);
  });

  it('fails with the first failure; the others are stopped and have ended when it returns', async () => {
    const ends: string[] = [];
    const work = allOrFirstFailure([poller(ends, 'slow', 1000), poller(ends, 'bad', 2, true)]);
    await expect(work).rejects.toThrow('bad failed');
    expect(ends).toEqual(['bad failed', 'slow stopped']);
  });

  it('an outer abort (a cancelled run) stops them all', async () => {
    const ends: string[] = [];
    const outer = new AbortController();
    setTimeout(() => outer.abort(new Error('cancelled')), 50);
    await expect(
      allOrFirstFailure([poller(ends, 'a', 1000), poller(ends, 'b', 1000)], outer.signal),
    ).rejects.toThrow('cancelled');
    expect(ends.sort()).toEqual(['a stopped', 'b stopped']);
  });
});
