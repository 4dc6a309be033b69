// Redirects, followed as fetch follows them (the Fetch standard's HTTP-redirect fetch), for the clients that
// send without fetch (kube/client/transport.ts, registry/http.ts): at most 20, only to http(s), 303 (and
// 301/302 after anything but GET or HEAD) as a GET without a body, and no Authorization to another origin.

export const maxRedirects = 20;

export interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** A redirect that no retry follows: a loop, or to a URL that is not HTTP. */
export class BadRedirect extends Error {}

const redirects = new Set([301, 302, 303, 307, 308]);

/**
 * The request that follows `status` (with its Location) after `hop`, or undefined when the answer is the
 * last; `count` is the number of redirects followed so far. Throws BadRedirect past the limit. With
 * sameOrigin, a redirect to another origin is not followed: the redirect is the answer.
 */
export function nextHop(
  hop: Hop,
  status: number,
  location: string | null,
  count: number,
  options: { sameOrigin?: boolean } = {},
): Hop | undefined {
  if (!redirects.has(status) || !location) return undefined;
  const what = `${hop.method} ${hop.url.origin}${hop.url.pathname}`;
  if (count >= maxRedirects) throw new BadRedirect(`${what}: more than ${maxRedirects} redirects`);
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch (error) {
    throw new BadRedirect(`${what}: redirected to '${location}', which is not a URL`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BadRedirect(`${what}: redirected to a ${url.protocol} URL, which is not HTTP`);
  if (options.sameOrigin && url.origin !== hop.url.origin) return undefined;
  let { method, headers, body } = hop;
  if (status === 303 || ((status === 301 || status === 302) && method !== 'GET' && method !== 'HEAD')) {
    if (method !== 'HEAD') method = 'GET';
    body = undefined;
    headers = without(headers, ['content-type', 'content-length']);
  }
  if (url.origin !== hop.url.origin) headers = without(headers, ['authorization']);
  return { url, method, headers, ...(body === undefined ? {} : { body }) };
}

function without(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}
