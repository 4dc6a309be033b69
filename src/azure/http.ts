import { fetch } from 'undici';
import { errorWithCause } from '../util/errors.js';
import { proxyDispatcher } from '../util/proxy.js';
import { retry } from '../util/retry.js';
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

const attempts = 3;
const timeoutMs = 30_000;
const maxRetryDelayMs = 5_000;

/**
 * POSTs once per attempt with a 30 s timeout; retries (3 attempts in all) only what Azure documents as
 * transient: 429, 5xx and connection failures, waiting Retry-After (at most 5 s) or 1 s, 2 s.
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
    return await retry(
      async () => {
        let response: Awaited<ReturnType<typeof fetch>>;
        try {
          response = await fetch(url, {
            dispatcher: proxyDispatcher(),
            method,
            headers: init.headers,
            // no body at all where there is none (an ARM action): an empty string would go as text/plain
            ...(init.body === undefined ? {} : { body: init.body }),
            redirect: 'error',
            signal: AbortSignal.timeout(timeoutMs),
          });
        } catch (error) {
          const never = hopeless(error, url, `the ${what} endpoint`);
          if (never) throw new Error(`${what}: cannot reach ${url}: ${never}`);
          throw new NoConnection(error);
        }
        const text = await response.text();
        const answer = { status: response.status, headers: response.headers, text, json: parseJson(text) };
        if (response.status === 429 || response.status >= 500) throw new Transient(answer);
        return answer;
      },
      {
        attempts,
        delayMs: (attempt, error) =>
          error instanceof Transient
            ? retryDelay(error.answer.headers.get('retry-after'), attempt)
            : attempt * 1000,
        retryable: (error) => error instanceof Transient || error instanceof NoConnection,
      },
    );
  } catch (error) {
    // the last transient answer is the caller's to explain; a connection that never came is ours
    if (error instanceof Transient) return error.answer;
    if (error instanceof NoConnection)
      throw new Error(
        `${what}: could not reach ${url} (${attempts} attempts): ${errorWithCause(error.cause)}`,
      );
    throw error;
  }
}

/** 429 or 5xx: Azure documents these as worth another try. */
class Transient extends Error {
  constructor(readonly answer: AzureResponse) {
    super(`HTTP ${answer.status}`);
  }
}

class NoConnection extends Error {
  constructor(override readonly cause: unknown) {
    super(errorWithCause(cause));
  }
}

/** The body as an error message quotes it: one line, at most 500 characters. */
export function quoteBody(response: AzureResponse): string {
  const line = response.text.replace(/\s+/g, ' ').trim();
  if (!line) return '(empty body)';
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

function retryDelay(header: string | null, attempt: number): number {
  const seconds = header === null ? Number.NaN : Number(header);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : attempt * 1000;
  return Math.min(ms, maxRetryDelayMs);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Duck-typed, not instanceof: fetch's errors may come from another realm (e.g. a test's vm context).
