import type { KubernetesObject } from '@kubernetes/client-node';
import { statusOf } from '../../src/kube/rollout/status.js';

// When a StatefulSet, DaemonSet or Job is current, from its status alone (the rules kstatus applies), as
// trackWorkload reads it through statusOf and logs it (prefixed with Kind/name).

const object = (kind: string, spec: object, status: object, generation = 2) =>
  ({ kind, metadata: { name: 'x', generation }, spec, status }) as KubernetesObject;

describe('statusOf a workload', () => {
  it('waits for the controller to see the generation', () => {
    const s = statusOf(object('StatefulSet', { replicas: 2 }, { observedGeneration: 1, readyReplicas: 2 }));
    expect(s).toEqual({ status: 'InProgress', message: 'waiting for its controller to see generation 2' });
  });

  it('a StatefulSet is current when every pod is updated and ready, on the update revision', () => {
    const base = { observedGeneration: 2, replicas: 2, readyReplicas: 2, updatedReplicas: 2 };
    expect(
      statusOf(object('StatefulSet', { replicas: 2 }, { ...base, currentRevision: 'a', updateRevision: 'a' }))
        .status,
    ).toBe('Current');
    expect(
      statusOf(object('StatefulSet', { replicas: 2 }, { ...base, currentRevision: 'a', updateRevision: 'b' }))
        .status,
    ).toBe('InProgress');
    expect(statusOf(object('StatefulSet', { replicas: 2 }, { ...base, readyReplicas: 1 })).progress).toBe(
      '2 of 2 updated, 1 of 2 ready',
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
    const line = '1 of 3 updated (partition 2: 1 to update), 3 of 3 ready';
    expect(statusOf(object('StatefulSet', spec, status))).toEqual({
      status: 'Current',
      message: line,
      progress: line,
    });
    expect(statusOf(object('StatefulSet', spec, { ...status, updatedReplicas: 0 })).status).toBe(
      'InProgress',
    );
  });

  it('a DaemonSet is current when every scheduled node runs an updated, available pod', () => {
    const status = {
      observedGeneration: 2,
      desiredNumberScheduled: 3,
      updatedNumberScheduled: 3,
      numberAvailable: 2,
    };
    const line = '3 of 3 updated, 2 of 3 available';
    expect(statusOf(object('DaemonSet', {}, status))).toEqual({
      status: 'InProgress',
      message: line,
      progress: line,
    });
    expect(statusOf(object('DaemonSet', {}, { ...status, numberAvailable: 3 })).status).toBe('Current');
  });

  it('a Job is done when Complete, and failed when Failed, with the reason', () => {
    const line = '0 of 1 succeeded, 1 active, 0 failed';
    expect(statusOf(object('Job', { completions: 1 }, { active: 1 }))).toEqual({
      status: 'InProgress',
      message: line,
      progress: line,
    });
    expect(
      statusOf(object('Job', {}, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }))
        .status,
    ).toBe('Current');
    expect(
      statusOf(
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
      ),
    ).toEqual({
      status: 'Failed',
      reason: 'BackoffLimitExceeded',
      message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
      progress: '0 of 1 succeeded, 0 active, 7 failed',
    });
  });
});
