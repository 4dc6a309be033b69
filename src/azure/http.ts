import { fetch } from 'undici';
import { errorWithCause } from '../util/errors.js';
import { httpRetryPolicy, NoConnection, withHttpRetries } from '../util/http-retry.js';
import { proxyDispatcher } from '../util/proxy.js';
import { hopeless } from '../util/unreachable.js';

// The one seam to Azure's REST endpoints (ACR token exchange, Azure Resource Manager): undici's fetch,
// bounded, through the proxy the environment names (HTTPS_PROXY, NO_PROXY), as @azure/identity's own
// pipeline reaches Entra ID. Node's global fetch ignores those variables.

export interface AzureResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, undefined when it is not JSON. */
  json: unknown;
}

/**
 * POSTs once per attempt; retries what Azure documents as transient (408, 429, 5xx and connection
 * failures), waiting Retry-After or 1 s, 2 s, within the bounds of util/http-retry.ts.
 * `what` names the call in errors, e.g. "ACR token exchange".
 */
export function azurePost(
  url: string,
  init: { headers: Record<string, string>; body?: string },
  what: string,
): Promise<AzureResponse> {
  return azureRequest('POST', url, init, what);
}

/** A GET through the same seam, with the same retries (ARM reads: Managed Clusters - Get). */
export function azureGet(
  url: string,
  init: { headers: Record<string, string> },
  what: string,
): Promise<AzureResponse> {
  return azureRequest('GET', url, init, what);
}

async function azureRequest(
  method: 'GET' | 'POST',
  url: string,
  init: { headers: Record<string, string>; body?: string },
  what: string,
): Promise<AzureResponse> {
  try {
    return await withHttpRetries(what, async () => {
      let response: Awaited<ReturnType<typeof fetch>>;
      try {
        response = await fetch(url, {
          dispatcher: proxyDispatcher(),
          method,
          headers: init.headers,
          // no body at all where there is none (an ARM action): an empty string would go as text/plain
          ...(init.body === undefined ? {} : { body: init.body }),
          redirect: 'error',
          signal: AbortSignal.timeout(httpRetryPolicy.timeoutMs),
        });
      } catch (error) {
        const never = hopeless(error, url, `the ${what} endpoint`);
        if (never) throw new Error(`${what}: cannot reach ${url}: ${never}`, { cause: error });
        throw new NoConnection(errorWithCause(error), { cause: error });
      }
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, json: parseJson(text) };
    });
  } catch (error) {
    // a connection that never came is ours to explain; the last transient answer is the caller's
    if (error instanceof NoConnection)
      throw new Error(
        `${what}: could not reach ${url} (${httpRetryPolicy.attempts} attempts): ${errorWithCause(error.cause)}`,
        { cause: error.cause },
      );
    throw error;
  }
}

/** The body as an error message quotes it: one line, at most 500 characters. */
export function quoteBody(response: AzureResponse): string {
  const line = response.text.replace(/\s+/g, ' ').trim();
  if (!line) return '(empty body)';
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Duck-typed, not instanceof: fetch's errors may come from another realm (e.g. a test's vm context).
