import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { applySet } from '../../src/kube/apply/apply.js';
import { listRevisions, rollbackTo } from '../../src/kube/release/revision-rollback.js';
import { trackRollout } from '../../src/kube/rollout/track.js';
import {
  deleteNamespace,
  deployment,
  fieldManager,
  get,
  namespaceName,
  testCluster,
} from '../helpers/cluster.js';

// Rollback as `kubectl rollout undo` does it, checked by what the cluster then runs.

const cluster = testCluster();
const ns = namespaceName('t-rollback');
const path = `/apis/apps/v1/namespaces/${ns}/deployments/archetype`;
const image = (v: string) => `127.0.0.1:5000/archetype:${v}`;

async function deploy(version: string, force = false) {
  const result = await applySet(
    cluster,
    [
      deployment(ns, {
        image: image(version),
        annotations: { 'kubernetes.io/change-cause': `deploy ${version}` },
      }),
    ],
    { fieldManager, force, namespace: ns },
  );
  await trackRollout(cluster, ns, 'archetype', { timeoutMs: 30_000 });
  return result;
}

const live = async () => {
  const d = await get<V1Deployment>(cluster, path);
  return {
    image: d?.spec?.template?.spec?.containers?.[0]?.image,
    revision: Number(d?.metadata?.annotations?.['deployment.kubernetes.io/revision']),
    changeCause: d?.metadata?.annotations?.['kubernetes.io/change-cause'],
    resourceVersion: d?.metadata?.resourceVersion,
  };
};

afterAll(async () => {
  await deleteNamespace(cluster, ns);
});

describe('rollback', () => {
  it('says there is nothing to roll back to after a first deploy', async () => {
    await deploy('v1');
    const before = await live();
    await expect(rollbackTo(cluster, ns, 'archetype')).rejects.toThrow(
      `nothing to roll back to: Deployment archetype in namespace '${ns}' has only revision 1 (its first deploy)`,
    );
    expect((await live()).resourceVersion).toBe(before.resourceVersion);
  });

  it('lists revisions with images and change causes', async () => {
    await deploy('v2');
    await deploy('v3');
    const revisions = await listRevisions(cluster, ns, 'archetype');
    expect(revisions.map((r) => [r.revision, r.images, r.changeCause, r.current])).toEqual([
      [1, [image('v1')], 'deploy v1', false],
      [2, [image('v2')], 'deploy v2', false],
      [3, [image('v3')], 'deploy v3', true],
    ]);
    expect(revisions[0]?.created).toMatch(/^2\d{3}-\d\d-\d\dT/);
  });

  it('rolls back to the previous revision, which the cluster then runs as a new revision', async () => {
    const result = await rollbackTo(cluster, ns, 'archetype');
    expect(result).toEqual({ from: 3, to: 2, images: [image('v2')], skipped: false });
    expect((await trackRollout(cluster, ns, 'archetype', { timeoutMs: 30_000 })).revision).toBe(4);
    const now = await live();
    expect(now.image).toBe(image('v2'));
    expect(now.changeCause).toBe('deploy v2'); // copied from the ReplicaSet, as kubectl does
    const pods = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`);
    const running = pods.items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => p.spec?.containers[0]?.image);
    expect(new Set(running)).toEqual(new Set([image('v2')]));
  });

  it('rolls back to a named revision', async () => {
    const result = await rollbackTo(cluster, ns, 'archetype', 1);
    expect(result).toMatchObject({ from: 4, to: 1, images: [image('v1')], skipped: false });
    expect((await trackRollout(cluster, ns, 'archetype', { timeoutMs: 30_000 })).revision).toBe(5);
    expect((await live()).image).toBe(image('v1'));
    // revision 1 became 5, so the history now reads 3, 4, 5 (2 became 4 earlier)
    expect((await listRevisions(cluster, ns, 'archetype')).map((r) => r.revision)).toEqual([3, 4, 5]);
  });

  it('refuses an unknown revision, listing the valid ones, and changes nothing', async () => {
    const before = await live();
    await expect(rollbackTo(cluster, ns, 'archetype', 99)).rejects.toThrow(
      `input 'rollback-target': Deployment archetype in namespace '${ns}' has no revision 99; valid revisions: 3 (${image('v3')}), 4 (${image('v2')}), 5 (${image('v1')})`,
    );
    expect(await live()).toEqual(before);
  });

  it('skips a rollback to the revision already running', async () => {
    const before = await live();
    expect(await rollbackTo(cluster, ns, 'archetype', 5)).toEqual({
      from: 5,
      to: 5,
      images: [image('v1')],
      skipped: true,
    });
    expect((await live()).resourceVersion).toBe(before.resourceVersion);
  });

  it("lets the next deploy take back the rollback's fields without force-conflicts", async () => {
    const result = await deploy('v6');
    expect(result.objects[0]?.action).toBe('configured');
    expect(result.reclaimed.join('\n')).toContain('"archetype-deploy-rollback"');
    expect((await live()).image).toBe(image('v6'));
    const managers = (await get<V1Deployment>(cluster, path))?.metadata?.managedFields?.map((m) => m.manager);
    expect(managers).toContain('archetype-deploy');
  });
});
