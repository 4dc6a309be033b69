import type { V1ConfigMap } from '@kubernetes/client-node';
import { ResumableWatch } from '../../src/kube/client/watch.js';
import { deleteNamespace, eventually, namespaceName, testCluster } from '../helpers/cluster.js';

// The resumable watch against the real API server. Resuming from a resourceVersion is what keeps a
// reconnected watch from losing events that happened while it was away.

const cluster = testCluster();
const ns = namespaceName('t-watch');
const configMaps = `/api/v1/namespaces/${ns}/configmaps`;

beforeAll(async () => {
  await cluster.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await deleteNamespace(cluster, ns);
});

it('resumed from a resourceVersion, delivers the changes made while no watch was open, then new ones', async () => {
  const list = await cluster.request<{ metadata: { resourceVersion: string } }>('GET', configMaps);
  // changes while "disconnected"
  await cluster.request('POST', configMaps, { body: { metadata: { name: 'gap' }, data: { a: '1' } } });
  await cluster.request('PATCH', `${configMaps}/gap`, {
    contentType: 'application/merge-patch+json',
    body: { data: { a: '2' } },
  });
  const events: string[] = [];
  let resets = 0;
  let fatal: Error | undefined;
  const watch = new ResumableWatch<V1ConfigMap>(cluster, configMaps, {
    resourceVersion: list.metadata.resourceVersion,
    timeoutSeconds: 1,
    onReset: () => {
      resets += 1;
    },
    onEvent: (type, c) => events.push(`${type} ${c.metadata?.name} ${c.data?.a ?? ''}`.trim()),
    onFatal: (e) => {
      fatal = e;
    },
  });
  try {
    await watch.start();
    await eventually('the events of the gap', async () => events.length >= 2 || undefined);
    // across at least one server-side end of the watch (timeoutSeconds 1)
    await eventually('a resumed watch', async () => watch.reconnects >= 1 || undefined);
    await cluster.request('DELETE', `${configMaps}/gap`);
    await eventually('the DELETED event', async () => events.includes('DELETED gap 2') || undefined);
    expect(events.filter((e) => e.includes(' gap'))).toEqual([
      'ADDED gap 1',
      'MODIFIED gap 2',
      'DELETED gap 2',
    ]);
    expect(resets).toBe(0);
    expect(fatal).toBeUndefined();
  } finally {
    watch.stop();
  }
});

it('credentials the API server refuses end the watch at once with the 401, not after the outage allowance', async () => {
  const list = await cluster.request<{ metadata: { resourceVersion: string } }>('GET', configMaps);
  // the same server, a bearer token no authenticator accepts
  const refused = testCluster(
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: '${cluster.kubeConfig.getCurrentCluster()?.server}', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-token-anyone-issued}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`,
  );
  let fatal: Error | undefined;
  const watch = new ResumableWatch<V1ConfigMap>(refused, configMaps, {
    resourceVersion: list.metadata.resourceVersion,
    onReset: () => undefined,
    onEvent: () => undefined,
    onFatal: (e) => {
      fatal = e;
    },
  });
  try {
    await watch.start();
    const error = await eventually('the watch to give up', async () => fatal, 10_000);
    expect(error.message).toMatch(
      new RegExp(`^watch on ${configMaps}: 401 Unauthorized: the cluster credentials are not accepted`),
    );
    expect(watch.reconnects).toBe(0);
  } finally {
    watch.stop();
  }
});
