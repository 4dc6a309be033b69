import type { KubernetesObject } from '@kubernetes/client-node';
import { restoredSentence } from '../../src/jobs/deploy/failure.js';
import type { Release, ReleaseInfo } from '../../src/kube/release/release.js';
import { restoredWorkloads } from '../../src/kube/release/restore.js';
import { TrackFailure, trackerText, workloadsOf } from '../../src/kube/rollout/track-set.js';
import { preDeployAnnotation } from '../../src/names.js';

// What a restore brings back and follows, and the sentence a failed deploy ends with once it has.

const object = (kind: string, name: string, preDeploy = false): KubernetesObject => ({
  apiVersion: kind === 'Job' ? 'batch/v1' : kind === 'ConfigMap' ? 'v1' : 'apps/v1',
  kind,
  metadata: { name, ...(preDeploy ? { annotations: { [preDeployAnnotation]: 'true' } } : {}) },
});
const names = (objects: KubernetesObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`);

const info: ReleaseInfo = {
  number: 3,
  sha: 'abcdef0123456789abcdef0123456789abcdef01',
  image: 'r/app@sha256:1',
  created: '2026-12-01T00:00:00Z',
  outcome: 'deployed',
  note: '',
  secret: 'app-release-v3',
};
const set = [
  object('ConfigMap', 'config'),
  object('StatefulSet', 'db'),
  object('Job', 'migrate', true),
  object('Deployment', 'web'),
  object('Job', 'report'),
  object('DaemonSet', 'agent'),
  object('Deployment', 'worker'),
];

describe('restoredWorkloads', () => {
  it('follows every workload the restore rolls out again, Deployments first; no Job runs again', () => {
    const release: Release = { ...info, objects: set };
    expect(names(restoredWorkloads(release))).toEqual([
      'Deployment/web',
      'Deployment/worker',
      'StatefulSet/db',
      'DaemonSet/agent',
    ]);
  });
});

describe('workloadsOf', () => {
  it("tracks a deploy's workloads, its Jobs too, but not the pre-deploy ones (they ran first)", () => {
    expect(names(workloadsOf(set))).toEqual([
      'StatefulSet/db',
      'Deployment/web',
      'Job/report',
      'DaemonSet/agent',
      'Deployment/worker',
    ]);
  });
});

describe('restoredSentence', () => {
  it('names the revision that serves again for one Deployment', () => {
    expect(restoredSentence(info, ['web'], new Map([['web', 7]]))).toBe(
      "Rolled back to release 3 (abcdef0): revision 7's pods are serving again.",
    );
    expect(restoredSentence(info, ['web'], new Map())).toBe(
      'Rolled back to release 3 (abcdef0): its pods are serving again.',
    );
  });

  it('lists each Deployment, with the revisions known', () => {
    expect(
      restoredSentence(
        info,
        ['web', 'worker', 'api'],
        new Map([
          ['web', 2],
          ['api', 5],
        ]),
      ),
    ).toBe(
      'Rolled back to release 3 (abcdef0): Deployment/web revision 2, Deployment/worker and Deployment/api revision 5 are serving again.',
    );
    expect(restoredSentence(info, [], new Map())).toBe(
      'Rolled back to release 3 (abcdef0): its objects are restored.',
    );
  });
});

describe('TrackFailure', () => {
  it("says whose rollout failed; trackerText gives the tracker's own words", () => {
    const cause = new Error('Deployment web (namespace ns, revision 4): progress deadline exceeded');
    const failure = new TrackFailure(
      'the rollout of Deployment/web revision 4 failed: progress deadline exceeded',
      'Deployment',
      'web',
      {
        cause,
        revision: 4,
      },
    );
    expect(failure.ref).toBe('Deployment/web');
    expect(failure.cause).toBe(cause);
    expect(trackerText(failure)).toBe(cause.message);
    expect(trackerText(new Error('plain'))).toBe('plain');
  });
});
