import type { Inputs } from './inputs.js';

export type ClusterTarget =
  | { kind: 'kubeconfig'; kubeconfig: string }
  | {
      kind: 'aks';
      subscriptionId: string;
      resourceGroup: string;
      clusterName: string;
      admin: boolean;
      /** ask ARM for the kubeconfig with the cluster's public FQDN (a private cluster's way in from outside) */
      publicFqdn: boolean;
    };

/** The AKS cluster's names, for the az commands that messages suggest; none for another cluster. */
export function aksNames(settings: { cluster: ClusterTarget }): {
  aks?: { resourceGroup: string; clusterName: string };
} {
  const c = settings.cluster;
  return c.kind === 'aks' ? { aks: { resourceGroup: c.resourceGroup, clusterName: c.clusterName } } : {};
}

/**
 * A kubeconfig, or an AKS cluster's coordinates (one way, not both). `required` false: the job reaches no
 * cluster (mode report), so none need be given.
 */
export function readCluster(inputs: Inputs, required: boolean): ClusterTarget {
  const kubeconfig = inputs.raw('kubeconfig');
  const aks = {
    subscriptionId: inputs.text('azure-subscription-id'),
    resourceGroup: inputs.text('resource-group'),
    clusterName: inputs.text('cluster-name'),
  };
  const admin = inputs.bool('admin-credentials');
  if (kubeconfig.trim()) {
    if (aks.resourceGroup || aks.clusterName)
      inputs.fail(
        'kubeconfig',
        'is set together with resource-group/cluster-name; give one way to reach the cluster',
      );
  } else if (aks.resourceGroup || aks.clusterName || aks.subscriptionId) {
    for (const [name, value] of Object.entries({
      'azure-subscription-id': aks.subscriptionId,
      'resource-group': aks.resourceGroup,
      'cluster-name': aks.clusterName,
    }))
      if (!value) inputs.fail(name, 'is required for AKS (or give a kubeconfig instead)');
    return { kind: 'aks', ...aks, admin, publicFqdn: inputs.bool('aks-public-fqdn') };
  } else if (required) {
    inputs.fail(
      'kubeconfig',
      'no cluster given; set kubeconfig, or azure-subscription-id + resource-group + cluster-name',
    );
  }
  return { kind: 'kubeconfig', kubeconfig };
}
