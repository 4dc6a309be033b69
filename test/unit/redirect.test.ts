import { describe, expect, it } from '@jest/globals';
import { BadRedirect, type Hop, nextHop } from '../../src/util/redirect.js';

// Redirects as the Fetch standard's HTTP-redirect fetch follows them (https://fetch.spec.whatwg.org/#http-redirect-fetch),
// for the clients that send without fetch (the API server's, the registry's).

const hop = (method: string, body?: string): Hop => ({
  url: new URL('https://registry.example/v2/app/blobs/sha256:abc'),
  method,
  headers: { authorization: 'Basic cHVsbGVy', 'Content-Type': 'application/json', accept: '*/*' },
  ...(body === undefined ? {} : { body }),
});

describe('nextHop', () => {
  it('is the last answer without a redirect status or a Location', () => {
    expect(nextHop(hop('GET'), 200, '/elsewhere', 0)).toBeUndefined();
    expect(nextHop(hop('GET'), 307, null, 0)).toBeUndefined();
  });

  it('keeps method, body and credentials on a 307/308 within the origin, resolving a relative Location', () => {
    const next = nextHop(hop('PUT', '{}'), 308, '../manifests/v1', 0);
    expect(next?.url.href).toBe('https://registry.example/v2/app/manifests/v1');
    expect(next?.method).toBe('PUT');
    expect(next?.body).toBe('{}');
    expect(next?.headers.authorization).toBe('Basic cHVsbGVy');
  });

  it('sends no Authorization to another origin (a blob in storage elsewhere)', () => {
    const next = nextHop(hop('GET'), 307, 'https://storage.example/c/blob?sig=s', 0);
    expect(next?.url.origin).toBe('https://storage.example');
    expect(next?.headers).toEqual({ 'Content-Type': 'application/json', accept: '*/*' });
  });

  it('stays within the origin when asked to (the API server: a pod behind its proxy may name any host)', () => {
    expect(nextHop(hop('GET'), 302, 'https://elsewhere.example/', 0, { sameOrigin: true })).toBeUndefined();
    expect(nextHop(hop('GET'), 302, '/v2/', 0, { sameOrigin: true })?.url.pathname).toBe('/v2/');
  });

  it('turns a 303, and a 301/302 after anything but GET or HEAD, into a GET without a body', () => {
    for (const [method, status] of [
      ['PUT', 303],
      ['POST', 302],
      ['PATCH', 301],
    ] as const) {
      const next = nextHop(hop(method, '{}'), status, '/done', 0);
      expect(next?.method).toBe('GET');
      expect(next?.body).toBeUndefined();
      expect(next?.headers['Content-Type']).toBeUndefined();
    }
    expect(nextHop(hop('HEAD'), 303, '/done', 0)?.method).toBe('HEAD');
    expect(nextHop(hop('GET'), 302, '/done', 0)?.method).toBe('GET');
  });

  it('stops after 20 redirects, and at a Location that is not http(s)', () => {
    expect(nextHop(hop('GET'), 302, '/again', 19)).toBeDefined();
    expect(() => nextHop(hop('GET'), 302, '/again', 20)).toThrow(
      new BadRedirect('GET https://registry.example/v2/app/blobs/sha256:abc: more than 20 redirects'),
    );
    expect(() => nextHop(hop('GET'), 302, 'file:///etc/passwd', 0)).toThrow(/a file: URL, which is not HTTP/);
  });
});
