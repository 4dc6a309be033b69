import type { Cluster, Method, RequestOptions } from './client.js';

/**
 * The same cluster, each request's retries ended by `signal`: reads started ahead, which the run may drop
 * (jobs/deploy/lock.ts), stop trying once dropped, and say nothing more while the run asks again.
 */
export function endedBy(cluster: Cluster, signal: AbortSignal): Cluster {
  return {
    ...cluster,
    request: <T>(method: Method, path: string, options?: RequestOptions) =>
      cluster.request<T>(method, path, { ...options, signal }),
    get: <T>(path: string, options?: RequestOptions) => cluster.get<T>(path, { ...options, signal }),
  };
}
