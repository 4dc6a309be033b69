import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { endedBy } from '../../src/kube/client/abortable.js';
import { builtInResources } from '../../src/kube/client/builtin-resources.js';
import { loadCluster } from '../../src/kube/client/client.js';
import {
  createNamespaceIfMissing,
  deleteNamespace,
  deleteNamespacesAndWait,
  listNamespaces,
  namespaceExists,
  patchNamespaceMetadata,
  readNamespace,
} from '../../src/kube/client/namespace.js';
import { kubeconfigText, namespaceName, testCluster } from '../helpers/cluster.js';

/**
 * Captures what the runner would read from the action's stdout, into `chunks` (to read it meanwhile); the
 * function returned restores it.
 */
function captureStdout(chunks: string[] = []): () => string {
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
    return chunks.join('');
  };
}

function stdoutOf(fn: () => unknown): { out: string; error?: Error } {
  const restore = captureStdout();
  try {
    fn();
    return { out: restore() };
  } catch (error) {
    return { out: restore(), error: error as Error };
  }
}

const key =
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretline1\nsecretline2abc\n-----END RSA PRIVATE KEY-----\n';
const kubeconfig = `apiVersion: v1
kind: Config
current-context: ctx
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
contexts:
- name: ctx
  context: { cluster: c, user: u }
users:
- name: u
  user:
    token: "s3cr3t-token-value"
    client-key-data: ${Buffer.from(key).toString('base64')}
- name: basic
  user:
    username: admin
    password: hunter2-password
`;

describe('loadCluster', () => {
  it('masks each credential value, line by line, never the whole document', () => {
    const { out, error } = stdoutOf(() => loadCluster(kubeconfig));
    expect(error).toBeUndefined();
    const masks = out
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length));
    expect(masks).toEqual(
      expect.arrayContaining([
        's3cr3t-token-value',
        'hunter2-password',
        Buffer.from(key).toString('base64'),
        'MIIEowIBAAKCAQEAsecretline1',
        'secretline2abc',
      ]),
    );
    expect(masks.some((m) => m.includes('server') || m.includes('\n'))).toBe(false);
  });

  it("names input 'kubeconfig' when the text is not a usable kubeconfig", () => {
    expect(stdoutOf(() => loadCluster('::: not yaml')).error?.message).toMatch(/^input 'kubeconfig': /);
    expect(stdoutOf(() => loadCluster('apiVersion: v1\nkind: Config\n')).error?.message).toMatch(
      /^input 'kubeconfig': has no usable current-context/,
    );
  });

  describe('fails at once, with the fix, where no retry can help', () => {
    /** What the client printed while the request failed, and how it failed. */
    async function attempt(text: string, outageMs = 60_000): Promise<{ out: string; message: string }> {
      const cluster = testCluster(text);
      const restore = captureStdout();
      try {
        await cluster.request('GET', '/api/v1/namespaces', { outageMs });
        return { out: restore(), message: 'no error' };
      } catch (error) {
        return { out: restore(), message: (error as Error).message };
      }
    }
    const withServer = (server: string) => kubeconfigText().replace(/server: \S+/, `server: ${server}`);

    it("a certificate that does not verify against the kubeconfig's CA", async () => {
      // the real API server, and a CA that did not sign its certificate: the first of the system's roots
      const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
      const other = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(bundle)?.[0] ?? '';
      const text = kubeconfigText().replace(
        /certificate-authority-data: \S+/,
        `certificate-authority-data: ${Buffer.from(other).toString('base64')}`,
      );
      const { out, message } = await attempt(text);
      expect(message).toMatch(
        /^GET \/api\/v1\/namespaces: cannot reach the API server: the certificate of https:\/\/127\.0\.0\.1:\d+ does not verify \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): .*\): the kubeconfig's server belongs to another server, or its CA changed/,
      );
      expect(out).not.toContain('trying again');
    });

    it('a port that does not speak TLS', async () => {
      // a plain HTTP server, as an https:// kubeconfig pointed at an http port meets it
      const plain = createHttpServer((_req, res) => res.end('plain HTTP'));
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      try {
        const port = (plain.address() as { port: number }).port;
        const { out, message } = await attempt(withServer(`https://127.0.0.1:${port}`));
        expect(message).toMatch(
          new RegExp(
            `^GET /api/v1/namespaces: cannot reach the API server: https://127\\.0\\.0\\.1:${port} does not speak TLS \\(.*wrong version number.*\\): check the scheme and port of the kubeconfig's server`,
          ),
        );
        expect(out).not.toContain('trying again');
      } finally {
        await new Promise((resolve) => plain.close(resolve));
      }
    });

    it('a refused connection is still retried (an API server restarting), the request named once', async () => {
      // a port nothing listens on (taken, then let go)
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as { port: number }).port;
      await new Promise((resolve) => probe.close(resolve));
      const { out, message } = await attempt(withServer(`https://127.0.0.1:${port}`), 2_000);
      expect(message).toMatch(/^GET \/api\/v1\/namespaces: no answer from the API server/);
      expect(out).toMatch(
        /^GET \/api\/v1\/namespaces: no answer from the API server .*; trying again for up to \d+ s$/m,
      );
      expect(out).not.toMatch(/GET \/api\/v1\/namespaces: GET/);
    });

    it('a read ended by its signal (a dropped read-ahead) stops trying, and says nothing more', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as { port: number }).port;
      await new Promise((resolve) => probe.close(resolve));
      const dropped = new AbortController();
      const cluster = endedBy(testCluster(withServer(`https://127.0.0.1:${port}`)), dropped.signal);
      const chunks: string[] = [];
      const restore = captureStdout(chunks);
      const out = () => chunks.join('');
      try {
        // without the signal, this read would go on for a minute: the test's own time is 30 s
        const read = cluster.request('GET', '/api/v1/namespaces', { outageMs: 60_000 }).then(
          () => 'answered',
          (error: Error) => error.message,
        );
        for (let i = 0; i < 50 && !out().includes('trying again'); i++)
          await new Promise((resolve) => setTimeout(resolve, 100));
        dropped.abort();
        expect(await read).toMatch(/^GET \/api\/v1\/namespaces: no answer from the API server/);
      } finally {
        restore();
      }
      expect(out().match(/trying again/g)).toHaveLength(1);
    }, 30_000);
  });

  it('talks to the local control plane through the one JSON seam', async () => {
    const cluster = testCluster(kubeconfigText());
    const ns = namespaceName('t-client');
    try {
      await cluster.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
      const read = await cluster.request<{ metadata: { name: string } }>('GET', `/api/v1/namespaces/${ns}`);
      expect(read.metadata.name).toBe(ns);
      expect(await cluster.pathOf('apps/v1', 'Deployment', ns, 'x')).toBe(
        `/apis/apps/v1/namespaces/${ns}/deployments/x`,
      );
      await expect(
        cluster.request('GET', `/api/v1/namespaces/${ns}/configmaps/missing`),
      ).rejects.toMatchObject({
        status: 404,
        reason: 'NotFound',
      });
    } finally {
      await deleteNamespace(cluster, ns);
    }
  });

  it('knows the built-in resources as the API server serves them, and asks discovery for the rest', async () => {
    const cluster = testCluster(kubeconfigText());
    for (const [apiVersion, kinds] of Object.entries(builtInResources)) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const served = await cluster.request<{
        resources: { name: string; kind: string; namespaced: boolean }[];
      }>('GET', path);
      for (const [kind, [plural, namespaced]] of Object.entries(kinds))
        expect({ apiVersion, kind, plural, namespaced }).toEqual({
          apiVersion,
          kind,
          ...pick(served.resources.find((r) => r.kind === kind && !r.name.includes('/'))),
        });
    }
    // not in the table: discovery, a kind the group does not have, a group the server does not serve
    expect(await cluster.resource('scheduling.k8s.io/v1', 'PriorityClass')).toEqual({
      plural: 'priorityclasses',
      namespaced: false,
    });
    expect(await cluster.resource('v1', 'Frobnicator')).toBeUndefined();
    expect(await cluster.resource('archetype.example.com/v9', 'Widget')).toBeUndefined();
  });
});

describe('namespace.ts', () => {
  it('creates a missing namespace once, labels it, reads it, and deletes it; a missing one reads as absent', async () => {
    const cluster = testCluster(kubeconfigText());
    const ns = namespaceName('t-ns');
    const object = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'archetype-deploy' } },
    };
    try {
      expect(await readNamespace(cluster, ns)).toBeUndefined();
      expect(await namespaceExists(cluster, ns)).toBe(false);
      expect(await patchNamespaceMetadata(cluster, ns, { labels: { a: 'b' } })).toBe(false);
      expect(await deleteNamespace(cluster, ns)).toBe(false);

      expect(await createNamespaceIfMissing(cluster, object, { fieldManager: 'archetype-deploy' })).toBe(
        true,
      );
      expect(await createNamespaceIfMissing(cluster, object, { fieldManager: 'archetype-deploy' })).toBe(
        false,
      );
      expect(await patchNamespaceMetadata(cluster, ns, { labels: { 'archetype.test/pr': '7' } })).toBe(true);
      const live = await readNamespace(cluster, ns);
      expect(live?.metadata?.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'archetype-deploy',
        'archetype.test/pr': '7',
      });
      expect((await listNamespaces(cluster, 'archetype.test/pr=7')).map((n) => n.metadata?.name)).toContain(
        ns,
      );

      expect(await deleteNamespace(cluster, ns)).toBe(true);
      // being deleted: a deploy may not take it
      const terminating = await readNamespace(cluster, ns);
      if (terminating)
        await expect(namespaceExists(cluster, ns)).rejects.toThrow(
          `namespace '${ns}' is being deleted (a teardown may still be running)`,
        );
      await deleteNamespacesAndWait(cluster, [ns], 60_000);
      expect(await readNamespace(cluster, ns)).toBeUndefined();
    } finally {
      await deleteNamespace(cluster, ns);
    }
  });
});

describe('connections to the API server', () => {
  // client-node 2.0.1 alone opens a TCP and TLS connection per request (kube/client/connections.ts)
  it('carries every request of a run over one connection', async () => {
    const text = kubeconfigText();
    const forward = await forwarder(text);
    try {
      const cluster = testCluster(text.replace(forward.server, `https://127.0.0.1:${forward.port}`));
      const names = await Promise.all(
        ['default', 'kube-system', 'kube-public'].map((ns) =>
          cluster.request<{ metadata: { name: string } }>('GET', `/api/v1/namespaces/${ns}`),
        ),
      );
      for (let i = 0; i < 5; i++) await cluster.request('GET', '/api/v1/namespaces/default');
      await cluster.get('/api/v1/namespaces/default/configmaps/missing');
      expect(names.map((n) => n.metadata.name)).toEqual(['default', 'kube-system', 'kube-public']);
      expect(forward.connections()).toBe(1);
    } finally {
      forward.close();
    }
  });

  it("reaches an API server on a port that fetch refuses (6000, one of the Fetch standard's bad ports)", async () => {
    const text = kubeconfigText();
    const forward = await forwarder(text, 6000);
    try {
      const cluster = testCluster(text.replace(forward.server, 'https://127.0.0.1:6000'));
      const ns = await cluster.request<{ metadata: { name: string } }>('GET', '/api/v1/namespaces/default');
      expect(ns.metadata.name).toBe('default');
    } finally {
      forward.close();
    }
  });
});

/** A TCP forwarder to the kubeconfig's API server on `port` (0: any), counting the connections made. */
async function forwarder(text: string, port = 0) {
  const server = new URL(/server:\s*(\S+)/.exec(text)?.[1] ?? '');
  const sockets: Socket[] = [];
  const proxy = createServer((socket) => {
    const upstream = connect(Number(server.port), server.hostname);
    sockets.push(socket, upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  return {
    server: server.origin,
    port: (proxy.address() as { port: number }).port,
    connections: () => sockets.length / 2,
    close: () => {
      proxy.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

function pick(r: { name: string; namespaced: boolean } | undefined) {
  return r ? { plural: r.name, namespaced: r.namespaced } : { plural: 'not served' };
}
