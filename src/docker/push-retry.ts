import * as core from '@actions/core';
import type { BuildSpec } from '../plan.js';
import { errorText } from '../util/errors.js';
import { backoff, retry } from '../util/retry.js';
import { buildAndPush } from './buildx.js';
import type { Docker } from './docker.js';

// A registry that blips while an image is pushed (a restart, a load balancer's 502, a reset connection)
// fails a push that a second try completes, and buildx rebuilds from its cache in seconds. So a push that
// fails is tried again, a bounded number of times, with a growing pause; a build step that fails is not.

export interface PushRetry {
  attempts: number;
  /** pause before the second attempt; doubled before each further one */
  delayMs: number;
}

const defaults: PushRetry = { attempts: 3, delayMs: 5_000 };

export async function buildAndPushRetrying(
  docker: Docker,
  spec: BuildSpec,
  policy: PushRetry = defaults,
): Promise<string> {
  const registry = spec.tags[0]?.split('/')[0] ?? 'the registry';
  try {
    return await retry(() => buildAndPush(docker, spec), {
      attempts: policy.attempts,
      delayMs: backoff(policy.delayMs, Number.POSITIVE_INFINITY),
      retryable: (error) => isPushFailure(errorText(error)),
      onRetry: (error, attempt, pause) =>
        core.warning(
          `the push to ${registry} failed (attempt ${attempt} of ${policy.attempts}): ${errorText(error).split('\n')[0]}; trying again in ${pause / 1000} s`,
        ),
    });
  } catch (error) {
    const message = errorText(error);
    if (!isPushFailure(message)) throw error;
    throw new Error(
      `the push to ${registry} failed after ${policy.attempts} attempts, so nothing was applied; check that the registry is up and reachable, then deploy again. Last error: ${message}`,
      { cause: error },
    );
  }
}

/** A failure of the registry's side (buildFailure's message), not of a Dockerfile step. */
export function isPushFailure(message: string): boolean {
  if (/ at step \[/.test(message)) return false;
  return /pushing|failed to push|\/v2\/|connection refused|connection reset|: EOF|i\/o timeout|handshake timeout|\b(429|500|502|503|504)\b/i.test(
    message,
  );
}
