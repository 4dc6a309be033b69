import type { KubernetesObject } from '@kubernetes/client-node';
import { withoutReplicas } from '../../src/kube/rollout/autoscale.js';

// Which objects of a set are applied without spec.replicas: the workloads an autoscaler scales.

const workload = (kind: string, name: string, replicas?: number) =>
  ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name },
    spec: { ...(replicas === undefined ? {} : { replicas }), selector: { matchLabels: { app: name } } },
  }) as KubernetesObject;

describe('withoutReplicas', () => {
  it('leaves spec.replicas out of the targets only, and names them with their autoscaler', () => {
    const set = [
      workload('Deployment', 'web', 2),
      workload('StatefulSet', 'db', 3),
      workload('Deployment', 'worker', 4),
    ];
    const targets = new Map([
      ['Deployment/web', 'HorizontalPodAutoscaler/web'],
      ['StatefulSet/db', 'HorizontalPodAutoscaler/db'],
    ]);
    const { objects, left } = withoutReplicas(set, targets);
    const replicas = objects.map((o) => (o as { spec?: { replicas?: number } }).spec?.replicas);
    expect(replicas).toEqual([undefined, undefined, 4]);
    expect(left).toEqual([
      { workload: 'Deployment/web', autoscaler: 'HorizontalPodAutoscaler/web' },
      { workload: 'StatefulSet/db', autoscaler: 'HorizontalPodAutoscaler/db' },
    ]);
    // the rest of the spec stays, and the input is not changed
    expect((objects[0] as { spec?: { selector?: unknown } }).spec?.selector).toEqual({
      matchLabels: { app: 'web' },
    });
    expect((set[0] as { spec?: { replicas?: number } }).spec?.replicas).toBe(2);
  });

  it('changes nothing without targets, or where the manifest has no replicas', () => {
    const set = [workload('Deployment', 'web')];
    expect(withoutReplicas(set, new Map([['Deployment/web', 'HorizontalPodAutoscaler/web']])).left).toEqual(
      [],
    );
    expect(withoutReplicas([workload('Deployment', 'web', 2)], new Map()).objects[0]).toEqual(
      workload('Deployment', 'web', 2),
    );
  });
});
