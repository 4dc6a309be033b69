import { diagnosisMarkdown } from '../../src/github/diagnosis-markdown.js';
import { applySet } from '../../src/kube/apply/apply.js';
import { diagnose, diagnosisLines } from '../../src/kube/diagnosis/diagnose.js';
import { RolloutFailure, trackRollout } from '../../src/kube/rollout/track.js';
import {
  type AppOptions,
  deleteNamespace,
  deployment,
  fieldManager,
  namespaceName,
  testCluster,
} from '../helpers/cluster.js';

// Diagnosis of failed rollouts on the real control plane; kwok pods report the failures a kubelet would
// (scripts/local-stack help), but serve no logs, which the diagnosis must tolerate.

const cluster = testCluster();
const ns = namespaceName('t-diagnose');

afterAll(async () => {
  await deleteNamespace(cluster, ns);
});

async function failedRollout(
  options: AppOptions & { name: string },
  timeoutMs = 20_000,
): Promise<RolloutFailure | undefined> {
  await applySet(cluster, [deployment(ns, options)], { fieldManager, force: false, namespace: ns });
  try {
    await trackRollout(cluster, ns, options.name, { timeoutMs, graceMs: 1_500, unschedulableGraceMs: 1_500 });
    return undefined;
  } catch (error) {
    if (error instanceof RolloutFailure) return error;
    throw error;
  }
}

describe('diagnose', () => {
  it('explains an image that cannot be pulled, with pods and events', async () => {
    const image = '127.0.0.1:5000/archetype:imagepullbackoff';
    expect((await failedRollout({ name: 'pull', image }))?.reason).toBe('ImagePullBackOff');
    const d = await diagnose(cluster, ns, 'pull');
    expect(d.summary).toBe(
      `Deployment pull revision 1 failed: pod ${d.pods[0]?.name} cannot pull image ${image} (ImagePullBackOff: Back-off pulling image "${image}"); ` +
        "the kubelet gave no more detail: check that this tag or digest exists in the registry and that the cluster may pull from it (AKS: 'az aks update --resource-group <resource-group> --name <cluster> --attach-acr <registry>', or an imagePullSecret); " +
        'no earlier revision is serving (this is the first).',
    );
    expect(d.healthy).toBe(false);
    expect(d.pods).toHaveLength(2);
    expect(d.pods[0]).toMatchObject({ phase: 'Pending', ready: false });
    expect(d.pods[0]?.containers[0]).toMatchObject({
      name: 'app',
      state: 'waiting',
      reason: 'ImagePullBackOff',
    });
    expect(d.events.map((e) => `${e.object.split('/')[0]} ${e.reason}`)).toEqual(
      expect.arrayContaining([
        'Deployment ScalingReplicaSet',
        'ReplicaSet SuccessfulCreate',
        'Pod Scheduled',
      ]),
    );
    const lines = diagnosisLines(d);
    expect(lines[0]).toBe(d.summary);
    expect(lines).toContainEqual(
      expect.stringMatching(/container app \(.*imagepullbackoff\): waiting, ImagePullBackOff/),
    );
    const md = diagnosisMarkdown(d);
    expect(
      md.startsWith(`**Deployment pull revision 1 failed: pod ${d.pods[0]?.name} cannot pull image`),
    ).toBe(true);
    expect(md).toContain('| Pod | Phase | Ready | Container | State | Restarts |');
    expect(md).toContain('| When | Type | Reason | Object | Message |');
  });

  it('explains a crash loop with the exit code, and tolerates a node that serves no log', async () => {
    const failure = await failedRollout({
      name: 'crash',
      image: '127.0.0.1:5000/archetype:crashloopbackoff',
      replicas: 1,
    });
    expect(failure?.reason).toBe('CrashLoopBackOff');
    const d = await diagnose(cluster, ns, 'crash');
    expect(d.summary).toMatch(
      /^Deployment crash revision 1 failed: container app in pod crash-\S+ keeps crashing \(Error, exit code 1, \d+ restarts?\); read its log/,
    );
    const container = d.pods[0]?.containers[0];
    expect(container).toMatchObject({
      reason: 'CrashLoopBackOff',
      lastTermination: { exitCode: 1, reason: 'Error' },
    });
    // kwok nodes have no kubelet to serve logs: the diagnosis says so instead of failing
    expect(container?.log ?? container?.logError).toBeDefined();
    expect(diagnosisLines(d).join('\n')).toMatch(/\((no log: .+)\)|\| /);
  });

  it("explains an unschedulable pod with the scheduler's message", async () => {
    const failure = await failedRollout({ name: 'huge', cpu: '64', replicas: 1 });
    expect(failure?.reason).toBe('Unschedulable');
    const d = await diagnose(cluster, ns, 'huge');
    // other nodes may be there too, tainted (the local target's real node, preflight tests' nodes)
    expect(d.pods[0]?.unschedulable).toMatch(/0\/\d+ nodes are available: (.*, )?2 Insufficient cpu/);
    expect(d.summary).toMatch(
      /^Deployment huge revision 1 failed: pod huge-\S+ cannot be scheduled \(0\/\d+ nodes are available: (.*, )?2 Insufficient cpu.*\); lower the resource requests/,
    );
  });

  it('explains a pod that runs but never becomes ready', async () => {
    const failure = await failedRollout(
      { name: 'unready', image: '127.0.0.1:5000/archetype:notready', replicas: 1 },
      3_000,
    );
    expect(failure?.reason).toBe('Timeout');
    const d = await diagnose(cluster, ns, 'unready');
    expect(d.summary).toMatch(
      /container app in pod unready-\S+ runs but never becomes ready in \d+s of running, though it has no readiness probe; read its log/,
    );
  });

  it('says a healthy Deployment is healthy', async () => {
    expect(await failedRollout({ name: 'fine', replicas: 2 })).toBeUndefined();
    const d = await diagnose(cluster, ns, 'fine');
    expect(d.healthy).toBe(true);
    expect(d.summary).toBe(
      'Deployment fine revision 1 is healthy: 2 of 2 pods ready (127.0.0.1:5000/archetype:v1).',
    );
  });
});

describe('diagnose a failing second revision', () => {
  // a good first revision, then the kwok trigger in the second: the diagnosis names what changed and
  // that the first revision still serves (a rolling update with maxUnavailable 0 keeps its pods)
  async function secondFails(name: string, fail: string, timeoutMs = 20_000) {
    expect(await failedRollout({ name, replicas: 2, env: { MODE: 'a' } })).toBeUndefined();
    return failedRollout(
      { name, replicas: 2, env: { MODE: 'b' }, podAnnotations: { 'archetype.local/fail': fail } },
      timeoutMs,
    );
  }
  const serving = 'revision 1 is still serving (2 of 2 pods ready).';

  it.each([
    [
      'pull2',
      'ImagePullBackOff',
      /cannot pull image .* \(ImagePullBackOff: Back-off pulling image ".*"\); the kubelet gave no more detail/,
    ],
    [
      'crash2',
      'CrashLoopBackOff',
      /container app in pod crash2-\S+ keeps crashing \(Error, exit code 1, \d+ restarts?\)/,
    ],
    ['unready2', 'NotReady', /container app in pod unready2-\S+ runs but never becomes ready/],
  ])('%s: %s, with the template diff and the serving revision', async (name, fail, sentence) => {
    const failure = await secondFails(name, fail, fail === 'NotReady' ? 3_000 : 20_000);
    expect(failure?.reason).toBe(fail === 'NotReady' ? 'Timeout' : fail);
    const d = await diagnose(cluster, ns, name);
    expect(d.summary).toMatch(new RegExp(`^Deployment ${name} revision 2 failed: `));
    expect(d.summary).toMatch(sentence);
    expect(d.summary.endsWith(serving)).toBe(true);
    expect(d.previousRevision).toBe(1);
    expect(d.changes).toEqual([
      { field: 'pod annotation archetype.local/fail', before: '(none)', after: fail },
      { field: 'container app env', before: 'MODE', after: 'MODE (changed)' },
    ]);
    expect(diagnosisLines(d)).toContain(`    pod annotation archetype.local/fail: (none) -> ${fail}`);
    expect(diagnosisMarkdown(d)).toContain('| Field | Revision 1 | Revision 2 |');
  });
});
