import type { KubernetesObject } from '@kubernetes/client-node';
import { workloadState } from '../../src/kube/rollout/track-workload.js';

// When a StatefulSet, DaemonSet or Job is current, from its status alone (the rules kstatus applies).

const object = (kind: string, spec: object, status: object, generation = 2) =>
  ({ kind, metadata: { name: 'x', generation }, spec, status }) as KubernetesObject;

describe('workloadState', () => {
  it('waits for the controller to see the generation', () => {
    const s = workloadState(
      object('StatefulSet', { replicas: 2 }, { observedGeneration: 1, readyReplicas: 2 }),
    );
    expect(s).toEqual({ done: false, line: 'StatefulSet/x: waiting for its controller to see generation 2' });
  });

  it('a StatefulSet is current when every pod is updated and ready, on the update revision', () => {
    const base = { observedGeneration: 2, replicas: 2, readyReplicas: 2, updatedReplicas: 2 };
    expect(
      workloadState(
        object('StatefulSet', { replicas: 2 }, { ...base, currentRevision: 'a', updateRevision: 'a' }),
      ).done,
    ).toBe(true);
    expect(
      workloadState(
        object('StatefulSet', { replicas: 2 }, { ...base, currentRevision: 'a', updateRevision: 'b' }),
      ).done,
    ).toBe(false);
    expect(workloadState(object('StatefulSet', { replicas: 2 }, { ...base, readyReplicas: 1 })).line).toBe(
      'StatefulSet/x: 2 of 2 updated, 1 of 2 ready',
    );
  });

  it('a partitioned StatefulSet is current once the pods at or above the partition are updated', () => {
    const spec = { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } };
    const status = {
      observedGeneration: 2,
      readyReplicas: 3,
      updatedReplicas: 1,
      currentRevision: 'a',
      updateRevision: 'b',
    };
    const s = workloadState(object('StatefulSet', spec, status));
    expect(s).toEqual({
      done: true,
      line: 'StatefulSet/x: 1 of 3 updated (partition 2: 1 to update), 3 of 3 ready',
    });
    expect(workloadState(object('StatefulSet', spec, { ...status, updatedReplicas: 0 })).done).toBe(false);
  });

  it('a DaemonSet is current when every scheduled node runs an updated, available pod', () => {
    const status = {
      observedGeneration: 2,
      desiredNumberScheduled: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 2,
    };
    expect(workloadState(object('DaemonSet', {}, status))).toEqual({
      done: false,
      line: 'DaemonSet/x: 3 of 3 updated, 2 of 3 available',
    });
    expect(workloadState(object('DaemonSet', {}, { ...status, numberAvailable: 3 })).done).toBe(true);
  });

  it('a Job is done when Complete, and failed when Failed, with the reason', () => {
    expect(workloadState(object('Job', { completions: 1 }, { active: 1 }))).toEqual({
      done: false,
      line: 'Job/x: 0 of 1 succeeded, 1 active, 0 failed',
    });
    expect(
      workloadState(object('Job', {}, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }))
        .done,
    ).toBe(true);
    expect(
      workloadState(
        object(
          'Job',
          {},
          {
            failed: 7,
            conditions: [
              {
                type: 'Failed',
                status: 'True',
                reason: 'BackoffLimitExceeded',
                message: 'Job has reached the specified backoff limit',
              },
            ],
          },
        ),
      ).failed,
    ).toBe('BackoffLimitExceeded: Job has reached the specified backoff limit');
  });
});
