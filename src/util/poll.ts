import { sleep } from './sleep.js';

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
  /** ends the wait early; the caller's next throwIfAborted says why */
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a value (anything but undefined) or `timeoutMs` has passed, `intervalMs`
 * apart: the one bounded wait loop. Resolves with the value, or undefined when the time ran out (the
 * caller says what did not happen); a check that throws ends the wait with its error.
 */
export async function poll<T>(
  check: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + options.intervalMs > deadline || options.signal?.aborted) return undefined;
    await sleep(options.intervalMs, options.signal);
  }
}
