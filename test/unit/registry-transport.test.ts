import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from '../../src/registry/client.js';

// How the registry client's requests travel (src/registry/http.ts): straight, through Node's own HTTP
// client, or through the proxy the environment names (HTTP_PROXY, NO_PROXY). A blob GET that the registry
// redirects to storage elsewhere, as ACR does (307 to a signed URL of its storage account: the Docker
// Registry HTTP API V2, "Pulling a Layer"), is followed as fetch follows it (the Fetch standard's HTTP-redirect
// fetch): the registry's Authorization never goes to the other origin. Local HTTP servers stand in for the
// registry, the storage and the proxy.

const auth = { username: 'puller', password: 'registry-password' };
const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;

interface Seen {
  url: string;
  authorization: string;
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization ?? '' });
    handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A registry that wants Basic credentials and sends every blob to `location(path)`. */
async function registryRedirecting(location: (path: string) => string) {
  return listen((req, res) => {
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
      return;
    }
    if (req.url?.includes('/blobs/')) {
      res.writeHead(307, { location: location(req.url) }).end();
      return;
    }
    res.writeHead(200).end('{"from":"registry"}');
  });
}

const storage = () =>
  listen((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(`blob at ${req.url}`);
  });

describe('registry transport', () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it('follows a blob to storage on another origin without the registry credentials', async () => {
    const blobs = await storage();
    const registry = await registryRedirecting((path) => `${blobs.origin}/container${path}?sig=signed`);
    const client = new Registry(registry.origin.replace('http://', ''), auth);
    const answer = await client.request('GET', 'app', 'blobs/sha256:abc');
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('blob at /container/v2/app/blobs/sha256:abc?sig=signed');
    expect(registry.seen.map((s) => s.authorization)).toEqual(['', basic]);
    expect(blobs.seen).toEqual([{ url: '/container/v2/app/blobs/sha256:abc?sig=signed', authorization: '' }]);
  });

  it('keeps the credentials on a redirect within the registry', async () => {
    const registry = await registryRedirecting((path) => path.replace('/blobs/', '/manifests/'));
    const client = new Registry(registry.origin.replace('http://', ''), auth);
    const answer = await client.request('GET', 'app', 'blobs/sha256:abc');
    expect(answer.body.toString()).toBe('{"from":"registry"}');
    expect(registry.seen.map((s) => [s.url, s.authorization])).toEqual([
      ['/v2/app/blobs/sha256:abc', ''],
      ['/v2/app/blobs/sha256:abc', basic],
      ['/v2/app/manifests/sha256:abc', basic],
    ]);
  });

  it('stops at a redirect loop', async () => {
    const registry = await registryRedirecting((path) => path);
    const client = new Registry(registry.origin.replace('http://', ''), auth);
    await expect(client.request('GET', 'app', 'blobs/sha256:abc')).rejects.toThrow(/more than 20 redirects/);
  });

  it('goes through the proxy HTTP_PROXY names, and straight to what NO_PROXY lists', async () => {
    const registry = await registryRedirecting((path) => path);
    // a forward proxy: absolute-form requests, passed on as they are
    const proxied: string[] = [];
    const proxy = await listen((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      const target = new URL(req.url ?? '');
      const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    const host = registry.origin.replace('http://', '');
    process.env.HTTP_PROXY = proxy.origin;
    process.env.NO_PROXY = '';
    const answer = await new Registry(host, auth).request('GET', 'app', 'manifests/v1');
    expect(answer.body.toString()).toBe('{"from":"registry"}');
    expect(proxied).toEqual([
      `GET ${registry.origin}/v2/app/manifests/v1`,
      `GET ${registry.origin}/v2/app/manifests/v1`,
    ]);

    process.env.NO_PROXY = '127.0.0.1';
    await new Registry(host, auth).request('GET', 'app', 'manifests/v2');
    expect(proxied).toHaveLength(2);
    expect(registry.seen.at(-1)?.url).toBe('/v2/app/manifests/v2');
  });
});
