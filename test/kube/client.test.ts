import { loadCluster } from '../../src/kube/client.js';
import { deleteNamespace, kubeconfigText, namespaceName, testCluster } from './cluster.js';

/** What the runner would read from the action's stdout while fn runs. */
function stdoutOf(fn: () => unknown): { out: string; error?: Error } {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
    return { out: chunks.join('') };
  } catch (error) {
    return { out: chunks.join(''), error: error as Error };
  } finally {
    process.stdout.write = write;
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

  it('says which API server did not answer', async () => {
    const { error } = stdoutOf(() => loadCluster(kubeconfig.replace('127.0.0.1:6443', '127.0.0.1:1')));
    expect(error).toBeUndefined();
    const cluster = testCluster(kubeconfig.replace('127.0.0.1:6443', '127.0.0.1:1'));
    // retried for the allowed outage (an API server restarting), then the error names the server
    const started = Date.now();
    await expect(cluster.request('GET', '/api/v1/namespaces', { outageMs: 2_000 })).rejects.toThrow(
      /^GET \/api\/v1\/namespaces: no answer from the API server \(https:\/\/127\.0\.0\.1:1\): /,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
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
});
