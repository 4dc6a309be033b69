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

/** The digest to deploy: the commit's image when `existing` finds it (and `rebuild` is off), else a fresh build. */
export async function buildOrReuse(
  docker: Docker,
  plan: Pick<DeployPlan, 'build' | 'repository'>,
  options: {
    /** input 'rebuild': never reuse */
    rebuild: boolean;
    /** the registry's answer for the commit's tag */
    existing: (tag: string) => Promise<Existing>;
    /** docker's sign-in to the registry: only a build needs it */
    login: () => Promise<void>;
    /** the Azure identity that pushes (input azure-client-id), for a refused push's fix */
    azureClientId?: string;
  },
): Promise<string> {
  const [commitTag] = plan.build.tags;
  if (!options.rebuild && commitTag) {
    const existing = await options.existing(commitTag);
    if (existing.digest) {
      core.info(
        `${commitTag} is already in the registry (${existing.digest}): deploying it as is (input 'rebuild' builds anew)`,
      );
      return existing.digest;
    }
    if (existing.reason)
      core.notice(`${commitTag} is in the registry, but ${existing.reason}: building it anew`);
  }
  // docker is needed only to build (a commit already pushed deploys from a runner without it); what the
  // runner lacks fails here, before docker signs in and before anything is written to the cluster
  const versions = await checkDocker(docker);
  core.info(`docker ${versions.client} (engine ${versions.server}), buildx ${versions.buildx}`);
  await options.login();
  const digest = await buildAndPushRetrying(docker, plan.build, undefined, options.azureClientId);
  core.info(`pushed ${plan.repository}@${digest}`);
  return digest;
}
