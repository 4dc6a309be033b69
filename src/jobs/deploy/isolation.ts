import * as core from '@actions/core';
import type { Credentials } from '../../credentials.js';
import type { Settings } from '../../settings.js';
import { errorText } from '../../util/errors.js';

// What a deploy checks of its cluster sign-in before anything is built or made: a preview never runs as
// cluster admin, and only where its NetworkPolicy is enforced.

/** A local account's kubeconfig is cluster-admin: no preview runs as that; production is warned. */
export async function checkSignIn(
  settings: Settings,
  credentials: Credentials,
  pr: number | undefined,
): Promise<void> {
  if (settings.cluster.kind !== 'aks' || credentials.entraSignIn !== false || settings.cluster.admin) return;
  const { localAccountWarning } = await import('../../azure/aks.js');
  const warning = localAccountWarning(settings.cluster);
  if (pr !== undefined)
    throw new Error(
      `${warning}. A pull request's preview does not run as cluster admin: nothing was built or made.`,
    );
  core.warning(warning);
}

/** A preview only where its NetworkPolicy is enforced (input require-network-policy), said before it is made. */
export async function checkIsolation(settings: Settings, credentials: Credentials): Promise<void> {
  if (settings.cluster.kind !== 'aks') {
    core.notice(
      "whether this cluster (input kubeconfig) enforces NetworkPolicies was not checked: check that its network plugin does (Calico, Cilium, ...), or the preview's default-deny NetworkPolicy denies nothing and its pods reach production's and the node's metadata endpoint",
    );
    return;
  }
  // input require-network-policy false: a read that fails (a 403) is a warning too
  const refusal = await credentials.previewIsolationRefusal().catch((e: unknown) => {
    if (settings.requireNetworkPolicy) throw e;
    return `whether the cluster enforces NetworkPolicies could not be checked: ${errorText(e)}`;
  });
  if (!refusal) return;
  if (settings.requireNetworkPolicy)
    throw new Error(
      `${refusal}. No preview was built or made: input 'require-network-policy: false' makes it anyway, with this as a warning.`,
    );
  core.warning(`${refusal}. The preview is made anyway (input 'require-network-policy' is false).`);
}
