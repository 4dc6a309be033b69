import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cluster } from '../client/client.js';
import { smokeFrontDoors } from './front-door.js';
import { type SmokeOptions, type SmokeResult, smokeCheckServices } from './smoke.js';

/**
 * The smoke check of a release: each Service of the image just built (smoke.ts), then, with `frontDoor`
 * (input smoke-front-door), the same GET through each Ingress that routes it (front-door.ts).
 */
export async function smokeRelease(
  cluster: Cluster,
  namespace: string,
  set: KubernetesObject[],
  expectedRevision: string,
  image: string,
  options: SmokeOptions & { frontDoor: boolean },
): Promise<SmokeResult[]> {
  const results = await smokeCheckServices(cluster, namespace, set, expectedRevision, image, options);
  const passed = results.flatMap((r) =>
    r.outcome === 'passed' && r.path ? [{ service: r.service, path: r.path }] : [],
  );
  if (options.frontDoor && passed.length > 0)
    await smokeFrontDoors(cluster, namespace, set, passed, expectedRevision, {
      log: options.log ?? (() => undefined),
    });
  return results;
}
