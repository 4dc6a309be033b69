import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fetch } from 'undici';
import { proxyDispatcher, proxyFor } from '../util/proxy.js';
import { type Hop, nextHop } from '../util/redirect.js';

// How the registry client's requests travel. Straight to the registry (or the storage a blob redirects to),
// through Node's own HTTP client: its parser is native, where undici's is WebAssembly compiled on first use
// (~10 ms of CPU for a run's few registry requests, before anything else can go on). Through a proxy the
// environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY: util/proxy.ts), through fetch and undici's proxy
// agent. Redirects are followed as fetch follows them (util/redirect.ts).

export interface Exchange {
  status: number;
  headers: { get(name: string): string | null };
  body: Buffer;
}

/** One request and its answer, redirects followed; a failed connection or a timeout throws. */
export async function exchange(
  method: 'GET' | 'HEAD' | 'PUT',
  url: string,
  options: { headers: Record<string, string>; body?: Buffer; timeoutMs: number },
): Promise<Exchange> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let hop: Hop | undefined = {
    url: new URL(url),
    method,
    headers: options.headers,
    ...(options.body ? { body: options.body } : {}),
  };
  for (let count = 0; ; count++) {
    const { url: target, method: verb, headers, body } = hop;
    const sent = {
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? Buffer.from(body) : body }),
      signal,
    };
    if (proxyFor(target.href)) return await throughProxy(verb, target.href, sent);
    const answer = await direct(verb, target, sent);
    hop = nextHop(hop, answer.status, answer.headers.get('location'), count);
    if (!hop) return answer;
  }
}

function direct(
  method: string,
  url: URL,
  options: { headers: Record<string, string>; body?: Buffer; signal: AbortSignal },
): Promise<Exchange> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method, headers: options.headers, signal: options.signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: headersOf(response.headers),
          body: Buffer.concat(chunks),
        }),
      );
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

async function throughProxy(
  method: string,
  url: string,
  options: { headers: Record<string, string>; body?: Buffer; signal: AbortSignal },
): Promise<Exchange> {
  const response = await fetch(url, {
    dispatcher: proxyDispatcher(),
    method,
    headers: options.headers,
    ...(options.body ? { body: options.body } : {}),
    redirect: 'follow',
    signal: options.signal,
  });
  const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

function headersOf(raw: IncomingHttpHeaders): Exchange['headers'] {
  return {
    get(name) {
      const value = raw[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
