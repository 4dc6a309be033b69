import * as core from '@actions/core';
import type { Credentials } from '../credentials.js';
import type { Cluster } from '../kube/client/client.js';
import { patchNamespaceMetadata } from '../kube/client/namespace.js';
import {
  gitShaAnnotation,
  instanceLabel,
  managedBy,
  managedByLabel,
  nameLabel,
  previewNamespace,
  prLabel,
  updatedAtAnnotation,
} from '../names.js';
import type { RunInfo } from '../plan.js';
import type { Settings } from '../settings.js';
import { errorText } from '../util/errors.js';
import { DeployFailure, type DeployResult, deploy } from './deploy.js';

// A pull request's preview: the deploy into <app>-pr-<n>, then labels on that namespace which let the
// teardown and the sweep find it, its pull request and the time of its last deploy.

export async function deployPreview(
  settings: Settings,
  credentials: Credentials,
  run: RunInfo,
  pr: number,
): Promise<DeployResult> {
  const mark = async () => markPreview(await credentials.cluster(), settings.appName, pr, run);
  try {
    const result = await deploy(settings, credentials, run, pr);
    await mark();
    return result;
  } catch (error) {
    // a failed rollout still leaves a preview behind, which the sweep must be able to find
    if (error instanceof DeployFailure)
      await mark().catch((e) =>
        core.warning(`could not label namespace ${previewNamespace(settings.appName, pr)}: ${errorText(e)}`),
      );
    throw error;
  }
}

/** Labels the preview's namespace with its pull request, and notes the commit and when it was deployed. */
export async function markPreview(
  cluster: Cluster,
  appName: string,
  pr: number,
  run: RunInfo,
): Promise<void> {
  const namespace = previewNamespace(appName, pr);
  // false (no namespace): the deploy stopped before it created the namespace, and there is nothing to find
  await patchNamespaceMetadata(cluster, namespace, {
    labels: {
      [managedByLabel]: managedBy,
      [nameLabel]: appName,
      [instanceLabel]: namespace,
      [prLabel]: String(pr),
    },
    annotations: { [updatedAtAnnotation]: run.now.toISOString(), [gitShaAnnotation]: run.sha },
  }).catch((error: unknown) => {
    throw new Error(`cannot label preview namespace '${namespace}': ${errorText(error)}`, { cause: error });
  });
}
