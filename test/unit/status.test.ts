import type {
  KubernetesObject,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { kinds } from '../../src/kube/kinds.js';
import {
  daemonSetStatus,
  deploymentStatus,
  jobStatus,
  statefulSetStatus,
  statusOf,
} from '../../src/kube/rollout/status.js';

// Each kind's status function on objects as the API server returns them (kstatus-style: InProgress,
// Current, Failed), no cluster. The progress lines are what the rollout log prints.

const meta = (generation = 3) => ({ name: 'web', generation });

const deployment = (
  status: V1Deployment['status'],
  spec: Partial<V1Deployment['spec']> = {},
): V1Deployment => ({
  kind: 'Deployment',
  metadata: meta(),
  spec: { replicas: 2, selector: {}, template: {}, ...spec },
  status: { observedGeneration: 3, ...status },
});

describe('deploymentStatus', () => {
  it('is Current when every replica is updated and available and no old one is left', () => {
    expect(deploymentStatus(deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }))).toEqual({
      status: 'Current',
      message: '2 of 2 updated, 2 of 2 available',
      progress: '2 of 2 updated, 2 of 2 available',
    });
  });

  it('is InProgress while old replicas wait for termination, or updated ones are not available', () => {
    const surge = deploymentStatus(deployment({ replicas: 3, updatedReplicas: 2, availableReplicas: 3 }));
    expect(surge).toMatchObject({
      status: 'InProgress',
      progress: '2 of 2 updated, 3 of 2 available, 1 old pending termination',
    });
    // one more updated replica than wanted (a surge) counts only once it is available too
    expect(
      deploymentStatus(deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 2 })).status,
    ).toBe('InProgress');
    expect(
      deploymentStatus(deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 0 })),
    ).toMatchObject({ status: 'InProgress', progress: '1 of 2 updated, 0 of 2 available' });
  });

  it('waits, without counts, until the controller has seen the generation', () => {
    const old = deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    expect(deploymentStatus(old)).toEqual({
      status: 'InProgress',
      message: 'waiting for its controller to see generation 3',
    });
    const never: V1Deployment = { ...old, status: {} };
    expect(deploymentStatus(never).status).toBe('InProgress');
    expect(deploymentStatus(never).progress).toBeUndefined();
  });

  it('fails with ProgressDeadlineExceeded, naming the deadline', () => {
    const d = deployment(
      {
        replicas: 2,
        updatedReplicas: 2,
        availableReplicas: 0,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "web-5d9" has timed out progressing.',
          },
        ],
      },
      { progressDeadlineSeconds: 30 },
    );
    expect(deploymentStatus(d)).toEqual({
      status: 'Failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'exceeded its progress deadline (30s): ReplicaSet "web-5d9" has timed out progressing.',
    });
    // the condition of a generation the controller has not seen yet is the previous rollout's
    expect(deploymentStatus({ ...d, status: { ...d.status, observedGeneration: 2 } }).status).toBe(
      'InProgress',
    );
  });

  it('fails when paused, whatever its counts, with the fix', () => {
    const d = deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, { paused: true });
    expect(deploymentStatus(d)).toEqual({
      status: 'Failed',
      reason: 'Paused',
      message: 'the Deployment is paused (spec.paused: true); resume it and deploy again',
    });
  });

  it('wants one replica when spec.replicas is unset', () => {
    const d = deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, { replicas: undefined });
    expect(deploymentStatus(d)).toMatchObject({
      status: 'Current',
      progress: '1 of 1 updated, 1 of 1 available',
    });
  });
});

describe('statefulSetStatus', () => {
  const set = (
    spec: Partial<V1StatefulSet['spec']>,
    status: Partial<V1StatefulSet['status']>,
  ): V1StatefulSet => ({
    kind: 'StatefulSet',
    metadata: meta(),
    spec: { replicas: 2, selector: {}, serviceName: 'web', template: {}, ...spec },
    status: { observedGeneration: 3, replicas: 2, ...status },
  });

  it('waits for an old observedGeneration', () => {
    expect(
      statefulSetStatus(set({}, { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2 })).status,
    ).toBe('InProgress');
  });

  it('is InProgress until the current revision is the update revision', () => {
    const ready = { readyReplicas: 2, updatedReplicas: 2, currentRevision: 'web-1', updateRevision: 'web-2' };
    expect(statefulSetStatus(set({}, ready)).status).toBe('InProgress');
    expect(statefulSetStatus(set({}, { ...ready, currentRevision: 'web-2' }))).toEqual({
      status: 'Current',
      message: '2 of 2 updated, 2 of 2 ready',
      progress: '2 of 2 updated, 2 of 2 ready',
    });
  });

  it('with OnDelete, is Current once every pod is ready (pods are replaced by hand)', () => {
    const status = {
      readyReplicas: 2,
      updatedReplicas: 0,
      currentRevision: 'web-1',
      updateRevision: 'web-2',
    };
    expect(statefulSetStatus(set({ updateStrategy: { type: 'OnDelete' } }, status)).status).toBe('Current');
    expect(
      statefulSetStatus(set({ updateStrategy: { type: 'OnDelete' } }, { ...status, readyReplicas: 1 }))
        .status,
    ).toBe('InProgress');
  });
});

describe('daemonSetStatus', () => {
  const set = (status: Partial<V1DaemonSet['status']>, generation = 3): V1DaemonSet => ({
    kind: 'DaemonSet',
    metadata: meta(generation),
    spec: { selector: {}, template: {} },
    status: {
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      observedGeneration: 3,
      desiredNumberScheduled: 3,
      ...status,
    },
  });

  it('is InProgress while not every node it schedules to runs an updated pod', () => {
    expect(daemonSetStatus(set({ updatedNumberScheduled: 2, numberAvailable: 2 }))).toEqual({
      status: 'InProgress',
      message: '2 of 3 updated, 2 of 3 available',
      progress: '2 of 3 updated, 2 of 3 available',
    });
  });

  it('is Current when every node runs an updated, available pod', () => {
    expect(daemonSetStatus(set({ updatedNumberScheduled: 3, numberAvailable: 3 })).status).toBe('Current');
  });

  it('waits for an old observedGeneration, even with counts that look complete', () => {
    expect(daemonSetStatus(set({ updatedNumberScheduled: 3, numberAvailable: 3 }, 4))).toEqual({
      status: 'InProgress',
      message: 'waiting for its controller to see generation 4',
    });
  });
});

describe('jobStatus', () => {
  const job = (status: V1Job['status'], completions?: number): V1Job => ({
    kind: 'Job',
    metadata: meta(1),
    spec: { template: {}, ...(completions ? { completions } : {}) },
    status,
  });

  it('is InProgress while running, whatever its generation (a Job has no observedGeneration)', () => {
    expect(jobStatus(job({ active: 2, succeeded: 1 }, 3))).toEqual({
      status: 'InProgress',
      message: '1 of 3 succeeded, 2 active, 0 failed',
      progress: '1 of 3 succeeded, 2 active, 0 failed',
    });
    expect(jobStatus(job(undefined)).status).toBe('InProgress');
  });

  it('is Current only when its Complete condition is true', () => {
    const complete = (status: string) => job({ succeeded: 1, conditions: [{ type: 'Complete', status }] });
    expect(jobStatus(complete('True')).status).toBe('Current');
    expect(jobStatus(complete('False')).status).toBe('InProgress');
  });

  it('fails on a true Failed condition, reason Failed when the condition has none', () => {
    const failed = jobStatus(job({ failed: 1, conditions: [{ type: 'Failed', status: 'True' }] }));
    expect(failed).toEqual({
      status: 'Failed',
      reason: 'Failed',
      message: 'Failed:',
      progress: '0 of 1 succeeded, 0 active, 1 failed',
    });
  });
});

describe('statusOf', () => {
  it("chooses each kind's function by the rollout column of the kinds table", () => {
    const d = deployment({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 });
    expect(statusOf(d)).toEqual(deploymentStatus(d));
    const tracked = kinds.filter((k) => k.rollout).map((k) => k.kind);
    expect(tracked).toEqual(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
    // an object of each tracked kind that its controller has not seen yet is in progress, never "not tracked"
    for (const kind of tracked) {
      const s = statusOf({
        kind,
        metadata: { name: 'x', generation: 2 },
        status: { observedGeneration: 1 },
      } as KubernetesObject);
      expect(s.status).toBe('InProgress');
    }
  });

  it('is Current, not tracked, for a kind whose rollout is not read, and for an unknown kind', () => {
    for (const kind of ['ConfigMap', 'CronJob', 'Service', 'Widget']) {
      const object: KubernetesObject = { kind, metadata: { name: 'x', generation: 5 } };
      expect(statusOf(object)).toEqual({ status: 'Current', message: 'not tracked' });
    }
  });
});
