import { randomBytes } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import type { Cluster } from '../../src/kube/client/client.js';
import { eventually, get } from './cluster.js';

// Extra kwok nodes for the preflight tests: any architecture and allocatable, made the way
// scripts/lib/stack-kube.sh makes the stack's nodes (the annotation kwok manages, a loopback address).
// Tainted so that no other test's pods land on them; the tests' own Deployments tolerate the taint and
// select the node by name. The stack's kwok-node-0/1 are never touched.

export const testTaint = { key: 'archetype.test/preflight', value: 'true', effect: 'NoSchedule' };

export interface TestNodeOptions {
  arch?: string;
  cpu?: string;
  memory?: string;
  pods?: string;
}

export async function createTestNode(
  cluster: Cluster,
  prefix: string,
  options: TestNodeOptions = {},
): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const arch = options.arch ?? 'amd64';
  const resources = { cpu: options.cpu ?? '2', memory: options.memory ?? '8Gi', pods: options.pods ?? '110' };
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': arch,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        type: 'kwok',
        'archetype.test/preflight': 'true',
      },
    },
    spec: { taints: [testTaint] },
    status: {
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      allocatable: resources,
      capacity: resources,
      nodeInfo: {
        architecture: arch,
        operatingSystem: 'linux',
        kubeletVersion: 'v1.34.4',
        kubeProxyVersion: 'v1.34.4',
        containerRuntimeVersion: 'kwok://v0.8.0',
        kernelVersion: 'kwok',
        osImage: 'kwok',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
    },
  };
  await cluster.request('POST', '/api/v1/nodes', { body: node });
  // Ready, and the node lifecycle controller has lifted the not-ready taint: pods may be bound and run
  await eventually(
    `node ${name} Ready without the not-ready taint`,
    async () => {
      const n = await get<V1Node>(cluster, `/api/v1/nodes/${name}`);
      const ready = n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const tainted = n?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
      return ready && !tainted ? true : undefined;
    },
    30_000,
  );
  return name;
}

export async function deleteTestNode(cluster: Cluster, name: string): Promise<void> {
  if (!name.includes('-')) throw new Error(`refusing to delete node '${name}': not a test node`);
  await cluster.request('DELETE', `/api/v1/nodes/${name}`).catch(() => undefined);
}

/** Pod spec fields that put a pod on the test node and nowhere else. */
export function onTestNode(node: string): { nodeSelector: Record<string, string>; tolerations: object[] } {
  return {
    nodeSelector: { 'kubernetes.io/hostname': node },
    tolerations: [{ key: testTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
  };
}

/** A pod bound to the node by spec.nodeName (no scheduler), requesting `cpu`: the node's other tenants. */
export async function bindPod(cluster: Cluster, namespace: string, node: string, cpu: string): Promise<void> {
  await cluster.request('POST', `/api/v1/namespaces/${namespace}/pods`, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `system-${randomBytes(3).toString('hex')}` },
      spec: {
        nodeName: node,
        tolerations: [{ key: testTaint.key, operator: 'Exists' }],
        containers: [
          {
            name: 'system',
            image: '127.0.0.1:5000/system:v1',
            resources: { requests: { cpu, memory: '64Mi' } },
          },
        ],
      },
    },
  });
}
