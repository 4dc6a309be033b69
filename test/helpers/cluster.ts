import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Cluster, loadCluster } from '../../src/kube/client/client.js';
import { deleteNamespace as deleteNamespaceOf } from '../../src/kube/client/namespace.js';

// The real local control plane (scripts/local-stack): every kube test file gets its own namespace.

export const fieldManager = 'archetype-deploy';

export function kubeconfigText(): string {
  const path = process.env.KUBECONFIG;
  if (!path)
    throw new Error(
      'KUBECONFIG is not set: these tests need the local control plane; run scripts/local-stack up and source scripts/local-stack env (eval "$(scripts/local-stack env)")',
    );
  return readFileSync(path.split(':')[0] ?? path, 'utf8');
}

/** Loads the cluster without printing ::add-mask:: lines for the stack's throwaway credentials. */
export function testCluster(text = kubeconfigText()): Cluster {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return loadCluster(text);
  } finally {
    process.stdout.write = write;
  }
}

export function namespaceName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export async function deleteNamespace(cluster: Cluster, namespace: string): Promise<void> {
  await deleteNamespaceOf(cluster, namespace);
}

export function get<T extends object>(cluster: Cluster, path: string): Promise<T | undefined> {
  return cluster.get<T>(path);
}

/** Polls until check returns a value, at most timeoutMs. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
  );
}

const labelsFor = (instance: string) => ({
  'app.kubernetes.io/name': instance,
  'app.kubernetes.io/instance': instance,
  'app.kubernetes.io/managed-by': 'archetype-deploy',
});

export interface AppOptions {
  name?: string;
  image?: string;
  replicas?: number;
  selector?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  annotations?: Record<string, string>;
  progressDeadlineSeconds?: number;
  minReadySeconds?: number;
  cpu?: string;
  env?: Record<string, string>;
  imagePullSecrets?: string[];
}

/** A rendered archetype Deployment, as render.ts produces it. */
export function deployment(namespace: string, options: AppOptions = {}): KubernetesObject {
  const name = options.name ?? 'archetype';
  const selector = options.selector ?? { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: labelsFor(name),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      replicas: options.replicas ?? 2,
      ...(options.progressDeadlineSeconds
        ? { progressDeadlineSeconds: options.progressDeadlineSeconds }
        : {}),
      ...(options.minReadySeconds ? { minReadySeconds: options.minReadySeconds } : {}),
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...labelsFor(name), ...selector },
          ...(options.podAnnotations ? { annotations: options.podAnnotations } : {}),
        },
        spec: {
          ...(options.imagePullSecrets
            ? { imagePullSecrets: options.imagePullSecrets.map((n) => ({ name: n })) }
            : {}),
          containers: [
            {
              name: 'app',
              image: options.image ?? '127.0.0.1:5000/archetype:v1',
              ports: [{ containerPort: 8000, name: 'http' }],
              resources: { requests: { cpu: options.cpu ?? '10m', memory: '32Mi' } },
              ...(options.env
                ? { env: Object.entries(options.env).map(([n, value]) => ({ name: n, value })) }
                : {}),
            },
          ],
        },
      },
    },
  } as KubernetesObject;
}

export function service(
  namespace: string,
  name = 'archetype',
  instance = 'archetype',
  port = 80,
): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: labelsFor(instance) },
    spec: {
      selector: { 'app.kubernetes.io/name': instance },
      ports: [{ port, targetPort: 'http', name: 'http' }],
    },
  } as KubernetesObject;
}

export function configMap(
  namespace: string,
  name: string,
  data: Record<string, string>,
  instance = 'archetype',
) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: labelsFor(instance) },
    data,
  };
}

export function ingress(
  namespace: string,
  name = 'archetype',
  host = 'archetype.example.test',
): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, labels: labelsFor(name) },
    spec: {
      ingressClassName: 'webapprouting.kubernetes.azure.com',
      rules: [
        {
          host,
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }],
          },
        },
      ],
    },
  } as KubernetesObject;
}

export function serviceAccount(namespace: string, name = 'archetype'): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels: labelsFor(name) } };
}
