import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentialRealm, Registry } from '../../src/registry/client.js';
import { imageDigest } from '../../src/registry/images.js';

// Where the registry client sends the registry password when a registry answers 401 with a Bearer challenge
// (the Docker Registry token authentication specification, distribution's docs/spec/auth/token.md: the
// client asks the challenge's realm for a token, with its credentials). Only to a realm over https, or on
// the registry's own origin, or, for a registry on this machine (plain http, 127.0.0.1), on this machine:
// never in the clear to a host the registry names. Two local HTTP servers stand in for the registry and a
// token server.

const digest = `sha256:${'a'.repeat(64)}`;
const auth = { username: 'pusher', password: 'registry-password' };

interface Fake {
  server: Server;
  port: number;
  /** the Authorization header of every request, '' when there was none */
  authorizations: string[];
}

async function listen(host: string, handle: (req: IncomingMessage) => [number, Record<string, string>]) {
  const fake: Fake = { server: createServer(), port: 0, authorizations: [] };
  fake.server.on('request', (req, res) => {
    fake.authorizations.push(req.headers.authorization ?? '');
    const [status, headers] = handle(req);
    res.writeHead(status, headers);
    res.end(status === 200 && req.url?.includes('token') ? JSON.stringify({ token: 'issued' }) : '');
  });
  await new Promise<void>((resolve) => fake.server.listen(0, host, resolve));
  fake.port = (fake.server.address() as AddressInfo).port;
  return fake;
}

/** A registry that wants a token from `realm()` and accepts only that token. */
const registryAnswer =
  (realm: () => string) =>
  (req: IncomingMessage): [number, Record<string, string>] => {
    if (req.url?.startsWith('/token')) return [200, { 'content-type': 'application/json' }];
    if (req.headers.authorization === 'Bearer issued') return [200, { 'docker-content-digest': digest }];
    return [401, { 'www-authenticate': `Bearer realm="${realm()}",service="fake-registry"` }];
  };

const servers: Fake[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.server.close(resolve))));
});

async function fakes(realmOf: (token: Fake) => string, tokenHost = '127.0.0.1') {
  const token = await listen(
    tokenHost,
    registryAnswer(() => ''),
  );
  let realm = '';
  const registry = await listen(
    '127.0.0.1',
    registryAnswer(() => realm),
  );
  realm = realmOf(token);
  servers.push(token, registry);
  return { token, registry, host: `127.0.0.1:${registry.port}` };
}

describe('the token realm a registry names', () => {
  it('is refused over plain http on another host: nothing is sent, the error names both', async () => {
    // a name under .invalid never resolves (RFC 6761): had the client tried to send, it would fail on DNS, not
    // with the refusal; nothing here leaves the loopback interface
    const { host } = await fakes(() => 'http://token.invalid:8080/token');
    await expect(imageDigest(new Registry(host, auth), `${host}/app:v1`)).rejects.toThrow(
      `registry ${host} names the token realm http://token.invalid:8080/token, which is neither https nor the registry's own origin (http://${host}): the registry credentials are not sent there`,
    );
  });

  it("is used on the registry's own origin, with the credentials", async () => {
    let realm = '';
    const own = await listen(
      '127.0.0.1',
      registryAnswer(() => realm),
    );
    servers.push(own);
    realm = `http://127.0.0.1:${own.port}/token`;
    const host = `127.0.0.1:${own.port}`;
    expect(await imageDigest(new Registry(host, auth), `${host}/app:v1`)).toBe(digest);
    const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    expect(own.authorizations).toEqual(['', basic, 'Bearer issued']);
  });

  it('is used on this machine for a registry on this machine (the local stack: registry :5001, token server :5002)', async () => {
    const { token, host } = await fakes((t) => `http://127.0.0.1:${t.port}/token`, '127.0.0.1');
    expect(await imageDigest(new Registry(host, auth), `${host}/app:v1`)).toBe(digest);
    expect(token.authorizations).toHaveLength(1);
    expect(token.authorizations[0]).toMatch(/^Basic /);
  });
});

describe('credentialRealm', () => {
  const remote = ['https://registry.example', 'registry.example'] as const;

  it('takes any https realm, and an http one only on the same origin or from a registry on this machine', () => {
    expect(credentialRealm('https://auth.example/token', ...remote).origin).toBe('https://auth.example');
    expect(credentialRealm('https://registry.example/oauth2/token', ...remote).pathname).toBe(
      '/oauth2/token',
    );
    expect(credentialRealm('http://localhost:5002/t', 'http://127.0.0.1:5001', '127.0.0.1:5001').port).toBe(
      '5002',
    );
    expect(credentialRealm('http://127.0.0.1:5000/t', 'http://127.0.0.1:5000', '127.0.0.1:5000').port).toBe(
      '5000',
    );
  });

  it.each([
    ['http://auth.example/token', 'an http realm elsewhere'],
    ['http://registry.example/token', 'the same host over http'],
    ['http://127.0.0.1:5002/token', 'this machine, named by a registry elsewhere'],
    ['ftp://registry.example/token', 'another scheme'],
  ])('refuses %s (%s)', (realm) => {
    expect(() => credentialRealm(realm, ...remote)).toThrow(
      /^registry registry\.example names the token realm .*, which is neither https nor the registry's own origin \(https:\/\/registry\.example\): the registry credentials are not sent there$/,
    );
  });

  it('refuses a realm that is not a URL', () => {
    expect(() => credentialRealm('/token', ...remote)).toThrow(
      'registry registry.example names a token realm that is not a URL (/token)',
    );
  });
});
