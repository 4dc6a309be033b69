import { backoff, retry } from './retry.js';

// One retry policy for the HTTP clients of outside services, the registry's (registry/client.ts) and
// Azure's (azure/http.ts): the same answers are tried again, after the same waits, within the same bounds.
// Not undici's RetryAgent: it shortens a long Retry-After to its own maximum instead of failing on it,
// throws away the last transient answer, which these callers explain (a 503's body), and a retry through
// it would not answer the registry's 401 challenge again.

/** Enough of an answer to judge it. */
export interface HttpAnswer {
  status: number;
  headers: { get(name: string): string | null };
}

/**
 * Thrown by an attempt that got no answer when another try may get one (a refused or reset connection, a
 * timeout). A connection that can never succeed (util/unreachable.ts) is a plain Error: it ends the retries.
 */
export class NoConnection extends Error {}

export interface HttpRetryPolicy {
  /** attempts in all */
  attempts: number;
  /** each attempt's own bound */
  timeoutMs: number;
  /** no wait may end later than this long after the first attempt started */
  withinMs: number;
  /** the longest Retry-After waited for; a longer one fails at once, naming the wait */
  maxRetryAfterMs: number;
  /** the wait after failed attempt n (1-based) when the answer names none */
  delayMs: (attempt: number) => number;
}

export const httpRetryPolicy: HttpRetryPolicy = {
  attempts: 3,
  timeoutMs: 30_000,
  withinMs: 120_000,
  maxRetryAfterMs: 30_000,
  delayMs: backoff(1_000, 5_000),
};

/** 408, 429 and 5xx: the server (or a proxy before it) may answer otherwise on another try. */
export function isTransient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Retry-After (RFC 9110 §10.2.3) as milliseconds from `now`: delay-seconds or an HTTP-date (a date past is
 * 0); undefined when the header is absent or neither.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // digits alone are not a date: Date.parse('5') would be a year
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A transient answer that will be tried again after `waitMs`. */
class Transient<A extends HttpAnswer> extends Error {
  constructor(
    readonly answer: A,
    readonly waitMs: number,
  ) {
    super(`HTTP ${answer.status}`);
  }
}

/**
 * Calls `send` until it returns an answer that is not transient, or the bounds are hit; then returns the
 * last answer, whatever its status, for the caller to judge. A `NoConnection` is tried again, and the last
 * one rethrown; any other error ends the retries at once. A Retry-After longer than the policy waits, or
 * than the time left, fails at once with an error naming the wait. `what` names the request in that error.
 */
export async function withHttpRetries<A extends HttpAnswer>(
  what: string,
  send: (attempt: number) => Promise<A>,
  policy: HttpRetryPolicy = httpRetryPolicy,
): Promise<A> {
  const started = Date.now();
  try {
    return await retry(
      async (n) => {
        const answer = await send(n);
        if (!isTransient(answer.status) || n >= policy.attempts) return answer;
        const header = answer.headers.get('retry-after');
        const asked = retryAfterMs(header);
        if (asked === undefined) throw new Transient(answer, policy.delayMs(n));
        const left = started + policy.withinMs - Date.now();
        const bound = Math.min(policy.maxRetryAfterMs, left);
        if (asked > bound)
          throw new Error(
            `${what}: answered ${answer.status} and asks to be tried again in ${seconds(asked)} (Retry-After: ${header}), longer than the ${seconds(bound)} this action waits; run the job again later`,
          );
        throw new Transient(answer, asked);
      },
      {
        attempts: policy.attempts,
        withinMs: policy.withinMs,
        delayMs: (n, error) => (error instanceof Transient ? error.waitMs : policy.delayMs(n)),
        retryable: (error) => error instanceof Transient || error instanceof NoConnection,
      },
    );
  } catch (error) {
    // the time bound came before the next try: the last answer is still the caller's to explain
    if (error instanceof Transient) return error.answer as A;
    throw error;
  }
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.ceil(ms / 1000))} s`;
}
