import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

// client-node (2.0.1) builds a new undici Agent for every request and every watch (KubeConfig's private
// createDispatcher, called by applySecurityAuthentication), so each opens its own TCP and TLS connection to
// the API server: a handshake per request, ~40 in a deploy, each paid by both ends, most of a request's time.
// Requests with the same TLS and proxy options share one Agent here, so one HTTP/2 connection carries
// them all; credentials that change per request (an Entra token) travel in headers and are not part of it.

type CreateDispatcher = (cluster: unknown, agentOptions: unknown) => Dispatcher | undefined;

/** Makes every request and watch of this kubeconfig with the same connection options share connections. */
export function shareConnections(kc: KubeConfig): void {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const create = target.createDispatcher;
  // an upgrade of client-node that moves this seam leaves a connection per request: test/kube/client.test.ts fails
  if (typeof create !== 'function') return;
  const shared = new Map<string, Dispatcher | undefined>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = keyOf(
      kc.createDispatcherOptions(
        cluster as Parameters<KubeConfig['createDispatcherOptions']>[0],
        agentOptions as Parameters<KubeConfig['createDispatcherOptions']>[1],
      ),
    );
    if (!shared.has(key)) shared.set(key, create.call(kc, cluster, agentOptions));
    return shared.get(key);
  };
}

/** The options as text, certificates and keys (Buffers) as base64. */
function keyOf(options: object): string {
  return JSON.stringify(options, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return Buffer.isBuffer(raw) ? raw.toString('base64') : value;
  });
}
