import * as core from '@actions/core';
import type { EndpointDefaults } from '@octokit/types';
import Bottleneck from 'bottleneck/light.js';

// GitHub's rate limits, as the REST API documents them, and what the action does about them:
// - "Rate limits for the REST API" (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
//   a primary limit is a 403 or 429 with `x-ratelimit-remaining: 0`, not to be retried before
//   `x-ratelimit-reset` (UTC epoch seconds); a secondary limit is a 403 or 429 whose message says "secondary
//   rate limit": wait `retry-after` seconds if given, else until `x-ratelimit-reset` if remaining is 0, else at
//   least one minute, and give up after a few retries. Secondary limits include "no more than 80
//   content-generating requests per minute and no more than 500 per hour".
// - "Best practices for using the REST API": requests one at a time, and at least one second between
//   POST/PATCH/PUT/DELETE requests.
// @octokit/plugin-throttling implements both (it queues writes and calls the handlers below on a limit); the
// handlers bound the waits, so that a limit costs a run at most a few minutes and then fails with a message
// naming the limit and when it lifts.

export interface Pacing {
  /** the least time between two writes (POST, PATCH, PUT, DELETE) */
  writeIntervalMs: number;
  /** the least time between two writes that notify people (a comment): the plugin's 3 s */
  notifyIntervalMs: number;
  /** the longest wait for one limit; a longer one fails the call */
  maxWaitSeconds: number;
  /** retries of one request after a limit */
  retries: number;
  /** all the waiting a connection (one run) does for limits */
  runWaitSeconds: number;
}

export const defaultPacing: Pacing = {
  writeIntervalMs: 1000,
  notifyIntervalMs: 3000,
  maxWaitSeconds: 60,
  retries: 2,
  runWaitSeconds: 180,
};

// one queue per kind and interval, shared by every connection of the process, as the plugin's own are
const queues = new Map<string, Bottleneck.Group>();

function queue(kind: 'write' | 'notify', intervalMs: number): Bottleneck.Group {
  const id = `archetype-${kind}-${intervalMs}`;
  let queue = queues.get(id);
  if (!queue) {
    queue = new Bottleneck.Group({
      id,
      maxConcurrent: 1,
      minTime: intervalMs,
    });
    queues.set(id, queue);
  }
  return queue;
}

type Limit = 'primary' | 'secondary';

/** The `throttle` options of octokit: the write queue and the bounded answers to a primary or secondary limit. */
export function throttleOptions(pacing: Pacing) {
  let waited = 0;
  const handler =
    (limit: Limit) =>
    (retryAfter: number, options: Required<EndpointDefaults>, _octokit: unknown, retryCount: number) => {
      if (
        retryCount >= pacing.retries ||
        retryAfter > pacing.maxWaitSeconds ||
        waited + retryAfter > pacing.runWaitSeconds
      )
        return false;
      waited += retryAfter;
      core.info(
        `GitHub's ${limit} rate limit answered ${options.method} ${pathOf(options)}: waiting ${retryAfter} s as GitHub asks, then retry ${retryCount + 1} of ${pacing.retries}`,
      );
      return true;
    };
  return {
    onRateLimit: handler('primary'),
    onSecondaryRateLimit: handler('secondary'),
    // GitHub: "Otherwise, wait for at least one minute before retrying"
    fallbackSecondaryRateRetryAfter: 60,
    write: queue('write', pacing.writeIntervalMs),
    notifications: queue('notify', pacing.notifyIntervalMs),
  };
}

/** The `retry` options of octokit: server errors and network failures; rate limits are the throttling's. */
export const retryOptions = { retries: 3, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] };

interface ErrorAnswer {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: { message?: unknown } };
}

/**
 * What a rate-limited answer means and when to run again, or undefined for any other error. GitHub's message
 * is quoted as it is; the waits are measured against the bounds the handlers above use.
 */
export function rateLimitText(error: unknown, pacing: Pacing, now = Date.now()): string | undefined {
  const e = error as ErrorAnswer | null;
  if (e?.status !== 403 && e?.status !== 429) return undefined;
  const headers = e.response?.headers ?? {};
  const data = e.response?.data?.message;
  const message = typeof data === 'string' ? data : (e.message ?? '');
  const remaining = String(headers['x-ratelimit-remaining'] ?? '');
  const retryAfter = Number(headers['retry-after']);
  const secondary = /secondary rate limit/i.test(message) || Number.isFinite(retryAfter);
  if (!secondary && remaining !== '0') return undefined;
  const reset = Number(headers['x-ratelimit-reset']);
  const retry = 'then run the job again; the deploy itself is not affected';
  if (secondary) {
    const wait = Number.isFinite(retryAfter)
      ? `GitHub asks to wait ${retryAfter} s (retry-after)`
      : remaining === '0' && Number.isFinite(reset)
        ? `GitHub asks to wait until ${when(reset, now)} (x-ratelimit-reset)`
        : 'GitHub asks to wait at least a minute';
    const bound =
      Number.isFinite(retryAfter) && retryAfter > pacing.maxWaitSeconds
        ? `, longer than the ${pacing.maxWaitSeconds} s this action waits`
        : `, and a run waits out at most ${pacing.retries} such answers to a request (${pacing.runWaitSeconds} s in all)`;
    return `GitHub's secondary rate limit (too many requests, or more than GitHub's 80 content-creating requests a minute / 500 an hour): "${message}"; ${wait}${bound}: ${retry}, and check that no other workflow makes many requests with the same token at the same time`;
  }
  const resets = Number.isFinite(reset) ? `; it resets at ${when(reset, now)} (x-ratelimit-reset)` : '';
  const bound =
    Number.isFinite(reset) && reset * 1000 - now <= pacing.maxWaitSeconds * 1000
      ? `, and the request was still limited after ${pacing.retries} retries`
      : `, later than the ${pacing.maxWaitSeconds} s this action waits`;
  const used = headers['x-ratelimit-limit'] ? ` (${headers['x-ratelimit-limit']} requests an hour)` : '';
  return `the token's primary rate limit is used up${used}: "${message}"${resets}${bound}: ${retry} after that`;
}

function when(epochSeconds: number, now: number): string {
  const at = new Date(epochSeconds * 1000);
  const minutes = Math.max(0, Math.ceil((at.getTime() - now) / 60_000));
  return `${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}, in ${minutes} min`;
}

/** The request's path, its template's {parameters} filled in (/repos/{owner}/{repo}/… before octokit sends it). */
function pathOf(options: Required<EndpointDefaults>): string {
  const params = options as unknown as Record<string, unknown>;
  const url = options.url.replace(/\{(\w+)\}/g, (whole, name: string) =>
    params[name] === undefined ? whole : encodeURIComponent(String(params[name])),
  );
  return new URL(url, 'http://github.invalid').pathname;
}
