import { type Cluster, isNotFound } from './client.js';

/**
 * Whether the namespace exists (false: missing, to be made). One being deleted cannot take the deploy: that
 * throws, naming the wait (a teardown may still be running).
 */
export async function namespaceExists(cluster: Cluster, namespace: string): Promise<boolean> {
  try {
    const live = await cluster.request<{ status?: { phase?: string } }>(
      'GET',
      `/api/v1/namespaces/${namespace}`,
    );
    if (live.status?.phase === 'Terminating')
      throw new Error(
        `namespace '${namespace}' is being deleted (a teardown may still be running); wait until it is gone and deploy again`,
      );
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
