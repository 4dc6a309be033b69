import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type App, createApp } from '../src/app.js';
import { BODY_LIMIT_BYTES, loadConfig } from '../src/config.js';

// The real server listening on a real loopback port, driven over HTTP (not fastify.inject).
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
let server: App;
let base: string;

beforeAll(async () => {
  server = await createApp(loadConfig({ LOG_LEVEL: 'silent', REVISION: 'deadbeef' }));
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  await server.app.close();
});

async function call(path: string, init?: RequestInit) {
  const response = await fetch(base + path, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as unknown };
}

test('GET / names the service, its package version and the revision', async () => {
  const { status, headers, body } = await call('/');
  expect(status).toBe(200);
  expect(headers.get('content-type')).toMatch(/^application\/json/);
  expect(body).toEqual({ name: 'archetype', version: pkg.version, revision: 'deadbeef' });
});

test('GET /healthz and /readyz answer 200 while serving', async () => {
  expect(await call('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  expect(await call('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
});

test('echoes an incoming x-request-id, otherwise generates one', async () => {
  const given = await call('/', { headers: { 'x-request-id': 'req-42' } });
  expect(given.headers.get('x-request-id')).toBe('req-42');
  const made = await call('/');
  expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

test('unknown routes answer 404 with a JSON body', async () => {
  const { status, body } = await call('/no/such/route');
  expect(status).toBe(404);
  expect(body).toMatchObject({ statusCode: 404, error: 'Not Found' });
});

test('POST /echo returns the JSON body it was given', async () => {
  const { status, body } = await call('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: [1, 2, 3] }),
  });
  expect(status).toBe(200);
  expect(body).toEqual({ echo: { a: [1, 2, 3] } });
});

test('bodies over the limit get 413, before the handler sees them', async () => {
  const { status, body } = await call('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES) }),
  });
  expect(status).toBe(413);
  expect(body).toMatchObject({ statusCode: 413 });
});

test('bad input gets a 4xx JSON answer without a stack trace', async () => {
  const broken = await call('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":',
  });
  expect(broken.status).toBe(400);
  const xml = await call('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: '<a/>',
  });
  expect(xml.status).toBe(415);
  for (const { text } of [broken, xml]) {
    expect(text).not.toMatch(/\bat .+\.(js|ts):\d+/);
    expect(text).not.toContain('node_modules');
  }
});

test('every answer carries x-content-type-options: nosniff, errors included', async () => {
  const answers = [
    await call('/'),
    await call('/healthz'),
    await call('/no/such/route'),
    await call('/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' }),
    await call('/echo', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' }),
    await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES) }),
    }),
  ];
  expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 400, 415, 413]);
  for (const { headers } of answers) expect(headers.get('x-content-type-options')).toBe('nosniff');
});

test('readiness turns 503 when draining starts, liveness stays 200', async () => {
  server.lifecycle.startDraining();
  const ready = await call('/readyz');
  expect(ready).toMatchObject({ status: 503, body: { status: 'draining' } });
  expect(ready.headers.get('connection')).toBe('close');
  expect((await call('/healthz')).status).toBe(200);
  expect((await call('/')).status).toBe(200);
});
