import { describe, expect, it } from '@jest/globals';
import { backoff, poll, retry } from '../../src/util/retry.js';

/** An attempt that fails `failures` times with `error`, then resolves 'ok'; counts its calls. */
function flaky(failures: number, error: unknown = new Error('blip')) {
  const calls: number[] = [];
  const attempt = async (n: number) => {
    calls.push(n);
    if (calls.length <= failures) throw error;
    return 'ok';
  };
  return { attempt, calls };
}

describe('retry', () => {
  it('resolves once an attempt succeeds, after the pauses the policy gives', async () => {
    const { attempt, calls } = flaky(2);
    const pauses: number[] = [];
    const value = await retry(attempt, {
      attempts: 5,
      delayMs: backoff(1, 100),
      retryable: () => true,
      onRetry: (_error, _n, delay) => pauses.push(delay),
    });
    expect(value).toBe('ok');
    expect(calls).toEqual([1, 2, 3]);
    expect(pauses).toEqual([1, 2]);
  });

  it('stops at the attempt bound with the last error', async () => {
    const { attempt, calls } = flaky(10, new Error('still down'));
    await expect(retry(attempt, { attempts: 3, delayMs: () => 1, retryable: () => true })).rejects.toThrow(
      'still down',
    );
    expect(calls).toEqual([1, 2, 3]);
  });

  it('stops when the next pause would end past the time bound', async () => {
    const { attempt, calls } = flaky(10);
    await expect(retry(attempt, { withinMs: 50, delayMs: () => 30, retryable: () => true })).rejects.toThrow(
      'blip',
    );
    expect(calls.length).toBe(2);
  });

  it('rethrows a failure that cannot heal at once', async () => {
    const { attempt, calls } = flaky(10, new Error('hopeless'));
    await expect(
      retry(attempt, { attempts: 5, delayMs: () => 1, retryable: (e) => String(e) !== 'Error: hopeless' }),
    ).rejects.toThrow('hopeless');
    expect(calls).toEqual([1]);
  });

  it('an abort ends the pause and the retries', async () => {
    const { attempt, calls } = flaky(10);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    await expect(
      retry(attempt, { withinMs: 60_000, delayMs: () => 10_000, retryable: () => true, signal: stop.signal }),
    ).rejects.toThrow('blip');
    expect(calls.length).toBeLessThanOrEqual(2);
  });

  it('backoff doubles up to its ceiling', () => {
    expect([1, 2, 3, 4, 5].map(backoff(250, 2_000))).toEqual([250, 500, 1_000, 2_000, 2_000]);
  });
});

describe('poll', () => {
  it('resolves with the first value', async () => {
    let n = 0;
    await expect(
      poll(async () => (++n === 3 ? n : undefined), { timeoutMs: 1_000, intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it('resolves undefined when the time runs out', async () => {
    let n = 0;
    const value = await poll(
      async () => {
        n++;
        return undefined;
      },
      { timeoutMs: 30, intervalMs: 10 },
    );
    expect(value).toBeUndefined();
    expect(n).toBeGreaterThanOrEqual(2);
  });

  it('a check that throws ends the wait with its error', async () => {
    await expect(
      poll(
        async () => {
          throw new Error('gone');
        },
        { timeoutMs: 1_000, intervalMs: 1 },
      ),
    ).rejects.toThrow('gone');
  });
});
