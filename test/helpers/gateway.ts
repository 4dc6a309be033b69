import type { Cluster } from '../../src/kube/client/client.js';
import { eventually, get } from './cluster.js';

// A platform team's shared Gateway on the local target (class approuting-istio, served by tools/edge): its
// namespace made, the Gateway written with the listeners given, and its address once it is Programmed.

export type Listener = Record<string, unknown> & { name: string; port: number; protocol: string };

export async function sharedGateway(
  cluster: Cluster,
  namespace: string,
  listeners: Listener[],
): Promise<string> {
  await cluster.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  await cluster.request('POST', `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/gateways`, {
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'shared', namespace },
      spec: { gatewayClassName: 'approuting-istio', listeners },
    },
  });
  return eventually(`Gateway ${namespace}/shared Programmed`, async () => {
    const g = await get<{
      status?: { addresses?: { value: string }[]; conditions?: { type: string; status: string }[] };
    }>(cluster, `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/gateways/shared`);
    return g?.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True')
      ? g.status?.addresses?.[0]?.value
      : undefined;
  });
}
