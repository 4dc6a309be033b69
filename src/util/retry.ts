import { sleep } from './sleep.js';

// The loop that tries a call again (retry) or waits for a state (poll, built on it); the HTTP policy of
// util/http-retry.ts is built on it too. One other loop tries again: the Kubernetes watch
// (kube/client/watch.ts) reconnects from timer callbacks, not an awaited loop, with its own bounds (a
// count of reconnects, the length of an outage). Every use here is bounded by a number of attempts, a
// time, or both, so it stops by itself.

interface Bounds {
  /** attempts in all */
  attempts?: number;
  /** no pause may end later than this long after the first attempt started */
  withinMs?: number;
}

export type RetryOptions = (Required<Pick<Bounds, 'attempts'>> | Required<Pick<Bounds, 'withinMs'>>) &
  Bounds & {
    /** the pause after failed attempt n (1-based) */
    delayMs: (attempt: number, error: unknown) => number;
    /** whether this failure may heal; false rethrows it at once */
    retryable: (error: unknown, attempt: number) => boolean;
    /** called before each pause, e.g. to say once what is being waited for */
    onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
    /** ends the pauses early; the last error is thrown */
    signal?: AbortSignal;
  };

/** Calls `attempt` until it resolves; rethrows the last error once it is not retryable or a bound is hit. */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const giveUpAt = Date.now() + (options.withinMs ?? Number.POSITIVE_INFINITY);
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!options.retryable(error, n) || n >= attempts || options.signal?.aborted) throw error;
      const delay = options.delayMs(n, error);
      if (Date.now() + delay > giveUpAt) throw error;
      options.onRetry?.(error, n, delay);
      await sleep(delay, options.signal);
    }
  }
}

/** Pauses of firstMs, 2×, 4×… up to maxMs. */
export function backoff(firstMs: number, maxMs: number): (attempt: number) => number {
  return (attempt) => Math.min(firstMs * 2 ** (attempt - 1), maxMs);
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
  /** ends the wait early; the caller's next throwIfAborted says why */
  signal?: AbortSignal;
}

const notYet = Symbol('not yet');

/**
 * Calls `check` until it returns a value (anything but undefined) or `timeoutMs` has passed, `intervalMs`
 * apart. Resolves with the value, or undefined when the time ran out (the caller says what did not
 * happen); a check that throws ends the wait with its error.
 */
export async function poll<T>(
  check: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T | undefined> {
  try {
    return await retry(
      async () => {
        const value = await check();
        if (value === undefined) throw notYet;
        return value;
      },
      {
        withinMs: options.timeoutMs,
        delayMs: () => options.intervalMs,
        retryable: (error) => error === notYet,
        signal: options.signal,
      },
    );
  } catch (error) {
    if (error === notYet) return undefined;
    throw error;
  }
}
