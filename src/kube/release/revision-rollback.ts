import type { V1ReplicaSet } from '@kubernetes/client-node';
import { changeCauseAnnotation, rollbackFieldManager } from '../../names.js';
import { errorText } from '../../util/errors.js';
import type { Cluster } from '../client/client.js';
import {
  deploymentPath,
  imagesOf,
  readDeployment,
  replicaSetsOf,
  revisionAnnotation,
  revisionOf,
  sameTemplate,
  withoutHash,
} from '../rollout/deployment.js';

// Rollback the way `kubectl rollout undo [--to-revision]` does it (k8s.io/kubectl polymorphichelpers
// rollback.go): copy the chosen ReplicaSet's pod template, minus its pod-template-hash label, back into the
// Deployment, together with the ReplicaSet's annotations; the deployment controller then makes it the newest
// revision. The patch also tests the resourceVersion read, so a change made meanwhile is not overwritten.

export interface Revision {
  revision: number;
  images: string[];
  /** when its ReplicaSet was created (ISO 8601) */
  created: string;
  changeCause?: string;
  replicaSet: string;
  /** the revision the Deployment runs now */
  current: boolean;
}

export interface RollbackResult {
  /** the revision that was running */
  from: number;
  /** the revision whose template was restored */
  to: number;
  images: string[];
  /** the current template already was that revision's; nothing changed */
  skipped: boolean;
}

// Deployment annotations that belong to the Deployment, not to a revision (kubectl's annotationsToSkip).
const annotationsToSkip = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export async function listRevisions(cluster: Cluster, namespace: string, name: string): Promise<Revision[]> {
  const deployment = await readDeployment(cluster, namespace, name);
  return revisionsFrom(await replicaSetsOf(cluster, deployment), revisionOf(deployment));
}

function revisionsFrom(replicaSets: V1ReplicaSet[], current: number): Revision[] {
  return replicaSets
    .filter((rs) => revisionOf(rs) > 0)
    .map((rs) => {
      const changeCause = rs.metadata?.annotations?.[changeCauseAnnotation];
      return {
        revision: revisionOf(rs),
        images: imagesOf(rs.spec?.template),
        created: String(rs.metadata?.creationTimestamp ?? ''),
        ...(changeCause ? { changeCause } : {}),
        replicaSet: rs.metadata?.name ?? '',
        current: revisionOf(rs) === current,
      };
    })
    .sort((a, b) => a.revision - b.revision);
}

/** Restores `revision`, or without it the one before the current (kubectl rollout undo). */
export async function rollbackTo(
  cluster: Cluster,
  namespace: string,
  name: string,
  revision?: number,
  options: { fieldManager?: string } = {},
): Promise<RollbackResult> {
  const deployment = await readDeployment(cluster, namespace, name);
  const replicaSets = await replicaSetsOf(cluster, deployment);
  const current = revisionOf(deployment);
  const revisions = revisionsFrom(replicaSets, current);
  const valid = revisions.map((r) => `${r.revision} (${r.images.join(', ')})`).join(', ');

  let target: V1ReplicaSet | undefined;
  if (revision === undefined) {
    // the newest revision older than the current one
    target = replicaSets
      .filter((rs) => revisionOf(rs) > 0 && revisionOf(rs) < current)
      .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    if (!target)
      throw new Error(
        `nothing to roll back to: Deployment ${name} in namespace '${namespace}' has ${
          revisions.length === 0 ? 'no revisions' : `only revision ${current} (its first deploy)`
        }; deploy a second version first`,
      );
  } else {
    target = replicaSets.find((rs) => revisionOf(rs) === revision);
    if (!target)
      throw new Error(
        `input 'rollback-target': Deployment ${name} in namespace '${namespace}' has no revision ${revision}; valid revisions: ${valid || 'none'}`,
      );
  }
  const to = revisionOf(target);
  const images = imagesOf(target.spec?.template);
  if (deployment.spec?.paused)
    throw new Error(
      `Deployment ${name} in namespace '${namespace}' is paused (spec.paused); resume it before rolling back`,
    );
  if (sameTemplate(target, deployment)) return { from: current, to, images, skipped: true };

  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {}))
    if (annotationsToSkip.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(target.metadata?.annotations ?? {}))
    if (!annotationsToSkip.has(k)) annotations[k] = v;

  try {
    await cluster.request('PATCH', deploymentPath(namespace, name), {
      query: { fieldManager: options.fieldManager ?? rollbackFieldManager },
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: deployment.metadata?.resourceVersion },
        { op: 'replace', path: '/spec/template', value: withoutHash(target.spec?.template) },
        { op: 'add', path: '/metadata/annotations', value: annotations },
      ],
    });
  } catch (error) {
    throw new Error(
      `rolling Deployment ${name} in namespace '${namespace}' back to revision ${to} failed: ${errorText(error)}` +
        (/test operation/i.test(errorText(error))
          ? ' (it changed while rolling back; run the rollback again)'
          : ''),
      { cause: error },
    );
  }
  return { from: current, to, images, skipped: false };
}
