import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azurePost } from '../../src/azure/http.js';

// The seam to Azure's REST endpoints retries what can heal (3 attempts) and fails at once on what cannot.
// How soon "at once" is, is the benchmark's to print (bench/run.mjs, section startup), not a timed assertion.

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  return await promise.then(
    () => new Error('no error'),
    (e: Error) => e,
  );
}

describe('azurePost', () => {
  it('fails at once on a port fetch never connects to, naming the endpoint and the fix', async () => {
    const error = await rejectionOf(
      azurePost('https://127.0.0.1:6000/oauth2/exchange', { headers: {} }, 'ACR token exchange'),
    );
    expect(error.message).toBe(
      'ACR token exchange: cannot reach https://127.0.0.1:6000/oauth2/exchange: port 6000 of https://127.0.0.1:6000 is one that fetch never connects to (a blocked port of the Fetch standard): the ACR token exchange endpoint is wrong, or the server must listen on another port',
    );
    // fetch's own error stays reachable for whoever logs the whole chain
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('fails at once on a port that does not speak TLS: one connection, no retry', async () => {
    let connections = 0;
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.end();
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await rejectionOf(
        azurePost(`https://127.0.0.1:${port}/oauth2/exchange`, { headers: {} }, 'ACR token exchange'),
      );
      expect(error.message).toMatch(
        new RegExp(
          `^ACR token exchange: cannot reach https://127\\.0\\.0\\.1:${port}/oauth2/exchange: https://127\\.0\\.0\\.1:${port} does not speak TLS .*check the scheme and port of the ACR token exchange endpoint$`,
        ),
      );
      // a retried outage would have connected 3 times
      expect(connections).toBe(1);
      expect(requests).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
