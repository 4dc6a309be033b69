// Counts the API server requests a tool sends (issue 27: requests per deploy for Helm, as the action counts
// its own): an HTTPS proxy on 127.0.0.1 with a certificate of its own, in front of the local target's API
// server, which it reaches with the kubeconfig's own client credentials. The tool gets a kubeconfig that
// points at the proxy. Used only for a counting pass, apart from the timed runs (it adds a hop).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * Starts the proxy; resolves with the kubeconfig file to give the tool, count() (requests so far, by
 * "VERB path-without-query"), and stop().
 */
export async function countingProxy() {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user?.certData || !user.keyData)
    throw new Error('the local target kubeconfig has no client certificate: cannot count through a proxy');
  const upstream = new URL(cluster.server);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(upstream.hostname))
    throw new Error(`the API server ${cluster.server} is not on loopback: the benchmark stays on 127.0.0.1`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
  // a certificate for 127.0.0.1, made for this run only
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=bench-proxy',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore', timeout: 30_000 },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  const decode = (data) => Buffer.from(data, 'base64');
  const agentOptions = {
    ca: cluster.caData ? decode(cluster.caData) : undefined,
    cert: decode(user.certData),
    key: decode(user.keyData),
  };
  const counts = new Map();
  const server = createServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
    const key = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const forward = request(
      {
        hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
        port: upstream.port || 443,
        method: req.method,
        path: req.url,
        headers: { ...withoutAuthorization(req.headers), host: upstream.host },
        ...agentOptions,
        // no pooled sockets: an idle one would keep the benchmark's process alive after stop()
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    // a watch the tool dropped must not stay open upstream (it would keep this process alive)
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'proxy',
          cluster: {
            server: `https://127.0.0.1:${port}`,
            'certificate-authority-data': cert.toString('base64'),
          },
        },
      ],
      // a token the tools send and the proxy drops: without any credential kubectl asks for a password
      users: [{ name: 'proxy', user: { token: 'counted-by-the-bench-proxy' } }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
      'current-context': 'proxy',
    }),
  );
  return {
    kubeconfig,
    count: () => [...counts.values()].reduce((a, b) => a + b, 0),
    byPath: () => new Map(counts),
    reset: () => counts.clear(),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

function withoutAuthorization(headers) {
  const { authorization: _dropped, ...rest } = headers;
  return rest;
}
