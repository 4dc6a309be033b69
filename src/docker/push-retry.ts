import * as core from '@actions/core';
import type { BuildSpec } from '../plan.js';
import { acrPushRoleFix, acrRefreshTokenUser } from '../util/acr-roles.js';
import { errorText } from '../util/errors.js';
import { backoff, retry } from '../util/retry.js';
import { buildAndPush } from './buildx.js';
import type { Docker } from './docker.js';

// A registry that blips while an image is pushed (a restart, a load balancer's 502, a reset connection)
// fails a push that a second try completes, and buildx rebuilds from its cache in seconds. So a push that
// fails is tried again, a bounded number of times, with a growing pause; a build step that fails is not.
// Nor is a push the registry refuses for rights: ACR lets an identity without push rights sign in (its
// token exchange and docker login succeed, Azure/acr docs/AAD-OAuth.md) and refuses the push itself, as
// any token-auth registry does (distribution's token.md: 401 insufficient_scope, docker's "denied").

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
  /** the Azure identity's client id (input azure-client-id), named in a refusal's fix */
  azureClientId = '',
): Promise<string> {
  const registry = spec.tags[0]?.split('/')[0] ?? 'the registry';
  try {
    return await retry(() => buildAndPush(docker, spec), {
      attempts: policy.attempts,
      delayMs: backoff(policy.delayMs, Number.POSITIVE_INFINITY),
      retryable: (error) => isPushFailure(errorText(error)) && !isPushRefused(errorText(error)),
      onRetry: (error, attempt, pause) =>
        core.warning(
          `the push to ${registry} failed (attempt ${attempt} of ${policy.attempts}): ${errorText(error).split('\n')[0]}; trying again in ${pause / 1000} s`,
        ),
    });
  } catch (error) {
    const message = errorText(error);
    if (isPushRefused(message))
      throw new Error(
        pushRefusal(message, spec.tags[0] ?? registry, docker.signedInAs(registry), azureClientId),
        { cause: error },
      );
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

// What docker and buildx print when the registry refuses a push for rights: the engine's "denied: requested
// access to the resource is denied" (its words for a 401 insufficient_scope), the registry's own
// "unauthorized: authentication required" (ACR adds ", visit https://aka.ms/acr/authorization ..."), buildkit's
// "server message: insufficient_scope: authorization failed" and "unexpected status ...: 401 Unauthorized",
// and ACR's firewall's "denied: client with IP '…' is not allowed access" (its troubleshooting page).
const refusal =
  /denied: requested access to the resource is denied|insufficient_scope|\bunauthorized: (authentication|credentials) required|client with IP\b[^\n]*?not allowed access|unexpected status[^\n]*?: 40[13]\b|\b(401 Unauthorized|403 Forbidden)\b/i;
// a base image the build may not pull is the Dockerfile's problem, not the push's
const pullRefusal = /pull access denied|failed to resolve source metadata|load metadata for/i;

/** The registry refused the push for rights (buildFailure's message): final, trying again cannot help. */
export function isPushRefused(message: string): boolean {
  if (/ at step \[/.test(message) || pullRefusal.test(message)) return false;
  return refusal.test(message);
}

/**
 * The one message for a refused push: the registry, the repository, who pushed, and the fix for that kind of
 * sign-in. `reference` is registry/name:tag; `signedInAs` is docker's user name there (undefined: none);
 * `azureClientId` the Azure identity's client id, when the inputs name it.
 */
export function pushRefusal(
  message: string,
  reference: string,
  signedInAs: string | undefined,
  azureClientId = '',
): string {
  const registry = reference.split('/')[0] ?? reference;
  const repository = reference.slice(registry.length + 1).replace(/:[^/:]*$/, '');
  const said = message.split('\n')[0]?.replace(/^docker buildx build failed: /, '') ?? message;
  const head = `${registry} refused the push of ${repository}`;
  const tail = `Then deploy again; nothing was applied. docker said: ${said}`;
  if (/client with IP\b[^\n]*?not allowed access/i.test(message))
    return `${head}: the registry's network rules do not let this runner's address in. Allow it (ACR: the registry's Networking page, or a self-hosted runner inside its network). ${tail}`;
  if (signedInAs === acrRefreshTokenUser)
    return (
      `${head}: the Azure identity the action signs in with (${azureClientId ? `client id ${azureClientId}, input 'azure-client-id'` : 'its credential from the environment'}) may not push there ` +
      `(ACR lets an identity without push rights sign in, and refuses its push). To fix it, ` +
      `${acrPushRoleFix(azureClientId || "<the identity's client id>", registry)}\n${tail}`
    );
  if (signedInAs === undefined || signedInAs === '')
    return `${head}: docker pushed without credentials. Set the inputs registry-username and registry-password to a user that may push to ${repository}. ${tail}`;
  const acrToken = /\.azurecr\.(io|cn|us)$/i.test(registry)
    ? ' (for an ACR token: a scope map with content/write on the repository)'
    : '';
  return `${head}: the user '${signedInAs}' (input 'registry-username') has no push rights for that repository. Give it push rights for ${repository}${acrToken}, or set registry-username and registry-password to a user that has them. ${tail}`;
}
