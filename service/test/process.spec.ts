import { execFileSync, spawnSync } from 'node:child_process';
import http from 'node:http';
import { serviceDir, startServer } from './support.js';

// These drive the built server as Kubernetes runs it: a process that gets SIGTERM.
beforeAll(() => {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: serviceDir,
    stdio: 'inherit',
  });
}, 60_000);

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** A POST whose body is sent in two parts: between them the request is in flight on the server. */
function slowUpload(port: number, path: string, body: string) {
  const bytes = Buffer.from(body);
  const request = http.request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': bytes.length },
  });
  const response = new Promise<{ status: number; connection?: string; body: unknown }>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(text) }),
      );
    });
  });
  const half = Math.floor(bytes.length / 2);
  const started = new Promise<void>((resolve) => request.write(bytes.subarray(0, half), () => resolve()));
  return { started, response, finish: () => request.end(bytes.subarray(half)) };
}

test('logs one JSON line per request with its request id, and no credentials', async () => {
  const server = await startServer({ SHUTDOWN_DELAY_MS: '0' });
  try {
    const secret = 'Bearer s3cr3t-token';
    const a = await get(server.port, '/?token=q5ecret', { authorization: secret, cookie: 'session=c00kie' });
    const b = await get(server.port, '/nowhere', { 'x-request-id': 'trace-7' });
    expect(a.status).toBe(200);
    expect(b.status).toBe(404);
    expect(b.headers.get('x-request-id')).toBe('trace-7');

    server.child.kill('SIGTERM');
    expect(await server.exit).toEqual({ code: 0, signal: null });
    const requests = server.logs.filter((line) => line.msg === 'request');
    expect(requests).toEqual([
      expect.objectContaining({
        reqId: a.headers.get('x-request-id'),
        method: 'GET',
        path: '/',
        status: 200,
      }),
      expect.objectContaining({ reqId: 'trace-7', method: 'GET', path: '/nowhere', status: 404 }),
    ]);
    const everything = JSON.stringify(server.logs) + server.stderr();
    for (const leaked of ['s3cr3t', 'c00kie', 'q5ecret']) expect(everything).not.toContain(leaked);
  } finally {
    server.child.kill('SIGKILL');
  }
});

test('SIGTERM: readiness 503 at once, serving through the drain, in-flight request completes, exit 0', async () => {
  const server = await startServer({ SHUTDOWN_DELAY_MS: '1500' });
  try {
    const upload = slowUpload(server.port, '/echo', JSON.stringify({ note: 'sent across a shutdown' }));
    await upload.started;
    expect((await get(server.port, '/readyz')).status).toBe(200); // also: the upload's headers have arrived

    server.child.kill('SIGTERM');
    await server.waitForLog('shutdown: readiness is 503');
    const draining = await get(server.port, '/readyz');
    expect(draining.status).toBe(503);
    expect(draining.body).toEqual({ status: 'draining' });
    expect(draining.headers.get('connection')).toBe('close');
    // New requests during the drain are still served: endpoints take a while to drop this pod.
    expect((await get(server.port, '/')).status).toBe(200);
    expect((await get(server.port, '/healthz')).status).toBe(200);

    // The drain is over and the server has stopped accepting; the upload is still in flight.
    await server.waitForLog('shutdown: no longer accepting');
    await expect(get(server.port, '/')).rejects.toThrow();
    let exited = false;
    void server.exit.then(() => {
      exited = true;
    });
    expect(exited).toBe(false);

    upload.finish();
    const done = await upload.response;
    expect(done).toEqual({
      status: 200,
      connection: 'close',
      body: { echo: { note: 'sent across a shutdown' } },
    });
    expect(await server.exit).toEqual({ code: 0, signal: null });
    expect(server.logs.map((line) => line.msg)).toContain('shutdown: all requests finished');
  } finally {
    server.child.kill('SIGKILL');
  }
});

test('bad configuration stops the process at start, naming the variable', () => {
  const result = spawnSync(process.execPath, ['dist/main.js'], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH, PORT: 'http' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  expect(JSON.parse(result.stderr)).toMatchObject({
    level: 60,
    msg: 'startup failed: PORT must be an integer from 0 to 65535, got "http"',
  });
});
