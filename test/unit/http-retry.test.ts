import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { azureGet } from '../../src/azure/http.js';
import { Registry } from '../../src/registry/client.js';
import { httpRetryPolicy, retryAfterMs, withHttpRetries } from '../../src/util/http-retry.js';

// The one retry policy of the registry's and Azure's HTTP clients (src/util/http-retry.ts), through both
// clients against a local HTTP server that answers from a script. Retry-After as RFC 9110 §10.2.3 defines
// it: delay-seconds or an HTTP-date.

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('1.5', now)).toBe(1_500);
  });

  it('reads an HTTP-date as the time from now, a date past as 0', () => {
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores what is neither', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
  });
});

describe('withHttpRetries', () => {
  it('fails at once on a Retry-After longer than the time left of its bound', async () => {
    let sent = 0;
    const answer = { status: 503, headers: new Headers({ 'retry-after': '10' }) };
    const policy = { ...httpRetryPolicy, withinMs: 5_000 };
    await expect(
      withHttpRetries(
        'GET x',
        async () => {
          sent += 1;
          return answer;
        },
        policy,
      ),
    ).rejects.toThrow(
      /^GET x: answered 503 and asks to be tried again in 10 s \(Retry-After: 10\), longer than the [45] s this action waits/,
    );
    expect(sent).toBe(1);
  });
});

interface Scripted {
  status: number;
  headers?: Record<string, string>;
}

let server: Server;
let origin: string;
/** what the server answers, one entry per request; 200 once the script is used up */
let script: Scripted[];
/** when each request arrived (ms since the epoch) */
let arrivals: number[];

beforeAll(async () => {
  server = createServer((req, res) => {
    arrivals.push(Date.now());
    req.resume();
    const next = script.shift() ?? { status: 200 };
    res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    res.end(JSON.stringify({ status: next.status }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  script = [];
  arrivals = [];
});

const clients = [
  {
    name: 'registry',
    request: async () => (await new Registry(origin).request('GET', 'app', 'manifests/latest')).status,
    what: () => `GET http://${origin}/v2/app/manifests/latest`,
  },
  {
    name: 'azure',
    request: async () =>
      (await azureGet(`http://${origin}/subscriptions/s`, { headers: {} }, 'ARM read')).status,
    what: () => 'ARM read',
  },
];

describe.each(clients)('the $name client', ({ request, what }) => {
  it('waits the Retry-After in seconds, then returns the answer that came', async () => {
    script = [{ status: 429, headers: { 'retry-after': '2' } }];
    expect(await request()).toBe(200);
    expect(arrivals).toHaveLength(2);
    // a lower bound only, above the 1 s waited without Retry-After: the wait asked for was waited
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(1_950);
  });

  it('waits until a Retry-After HTTP-date', async () => {
    // HTTP-dates have whole seconds: 3 s ahead, cut to the second, is 2 to 3 s away
    const date = new Date(Date.now() + 3_000).toUTCString();
    script = [{ status: 503, headers: { 'retry-after': date } }];
    expect(await request()).toBe(200);
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(1_950);
  });

  it('fails at once on a Retry-After longer than it waits, naming the wait', async () => {
    script = [{ status: 429, headers: { 'retry-after': '120' } }];
    await expect(request()).rejects.toThrow(
      `${what()}: answered 429 and asks to be tried again in 120 s (Retry-After: 120), longer than the 30 s this action waits; run the job again later`,
    );
    expect(arrivals).toHaveLength(1);
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    script = [{ status: 404 }];
    expect(await request()).toBe(404);
    expect(arrivals).toHaveLength(1);
  });

  it('retries 408, 429 and 5xx at most 3 times in all, returning the last answer', async () => {
    const now = { 'retry-after': '0' };
    script = [
      { status: 408, headers: now },
      { status: 502, headers: now },
      { status: 503, headers: now },
      { status: 200 },
    ];
    expect(await request()).toBe(503);
    expect(arrivals).toHaveLength(3);
  });
});
