import * as core from '@actions/core';
import type { DeployPlan } from '../plan.js';
import type { Docker } from './docker.js';
import { checkDocker } from './preconditions.js';
import { buildAndPushRetrying } from './push-retry.js';

// The image a deploy rolls out: the commit's, when the registry already holds it (a rerun deploys the same
// digest, and needs no docker), else built and pushed here.

/** What the registry holds under a tag: a digest to deploy as is, or why it cannot be (registry/images.ts). */
export interface Existing {
  digest?: string;
  reason?: string;
}

/**
 * Starts asking the registry for the commit's image, for buildOrReuse; undefined when input 'rebuild' (or
 * a plan without a commit tag) builds anyway.
 */
export function lookUpCommitImage(
  plan: Pick<DeployPlan, 'build'>,
  rebuild: boolean,
  find: (tag: string) => Promise<Existing>,
): { tag: string; existing: Promise<Existing> } | undefined {
  const [tag] = plan.build.tags;
  if (rebuild || !tag) return undefined;
  const existing = find(tag);
  // awaited by buildOrReuse; a run that fails before it (its manifests, its sign-in) drops the answer
  existing.catch(() => undefined);
  return { tag, existing };
}

/** The digest to deploy: the commit's image when the registry holds it (lookUpCommitImage), else a fresh build's. */
export async function buildOrReuse(
  docker: Docker,
  plan: Pick<DeployPlan, 'build' | 'repository'>,
  options: {
    /** the registry's answer for the commit's tag, or undefined to build anyway */
    lookUp: ReturnType<typeof lookUpCommitImage>;
    /** docker's sign-in to the registry: only a build needs it */
    login: () => Promise<void>;
    /** the Azure identity that pushes (input azure-client-id), for a refused push's fix */
    azureClientId?: string;
  },
): Promise<{ digest: string; reused: boolean }> {
  if (options.lookUp) {
    const { tag, existing: asked } = options.lookUp;
    const existing = await asked;
    if (existing.digest) {
      core.info(
        `${tag} is already in the registry (${existing.digest}): deploying it as is (input 'rebuild' builds anew)`,
      );
      return { digest: existing.digest, reused: true };
    }
    if (existing.reason) core.notice(`${tag} is in the registry, but ${existing.reason}: building it anew`);
  }
  // docker is needed only to build (a commit already pushed deploys from a runner without it); what the
  // runner lacks fails here, before docker signs in and before anything is written to the cluster
  const versions = await checkDocker(docker);
  core.info(`docker ${versions.client} (engine ${versions.server}), buildx ${versions.buildx}`);
  await options.login();
  const digest = await buildAndPushRetrying(docker, plan.build, undefined, options.azureClientId);
  core.info(`pushed ${plan.repository}@${digest}`);
  return { digest, reused: false };
}
