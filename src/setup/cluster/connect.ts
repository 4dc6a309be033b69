// The cluster as the person running setup: the AKS user kubeconfig from Azure Resource Manager, its kubelogin
// entry served by that person's own TokenCredential (an Entra token for the AKS server application), never the
// cluster's admin credential. A kubeconfig without Entra sign-in is a local account's client certificate
// (cluster-admin whoever holds it): setup refuses it rather than apply RBAC with a shared secret.
import type { TokenCredential } from '@azure/identity';
import { aksKubeconfig, signsInWithEntra } from '../../azure/aks.js';
import { EntraTokens } from '../../azure/cluster-token.js';
import { type Cluster, loadCluster } from '../../kube/client/client.js';
import { selfSubjectReview, type UserInfo } from '../../kube/client/self-review.js';

export interface AksClusterName {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface SignedInCluster {
  cluster: Cluster;
  /** the user and groups the API server knows the signed-in person by (SelfSubjectReview) */
  user: UserInfo;
}

export type { UserInfo } from '../../kube/client/self-review.js';

/**
 * Connects to the AKS cluster as the owner of `credential`. `armEndpoint` is the cloud's Resource Manager
 * (the stand-in's in tests). Fails, naming the fix, on a cluster that hands out a local account instead.
 */
export async function connectAsSignedInUser(
  credential: TokenCredential,
  target: AksClusterName,
  options: { armEndpoint?: string; publicFqdn?: boolean } = {},
): Promise<SignedInCluster> {
  const aks = {
    kind: 'aks' as const,
    subscriptionId: target.subscriptionId,
    resourceGroup: target.resourceGroup,
    clusterName: target.name,
    admin: false,
    publicFqdn: options.publicFqdn ?? false,
  };
  const text = await aksKubeconfig(
    aks,
    credential,
    options.armEndpoint ? { armEndpoint: options.armEndpoint } : {},
  );
  if (!signsInWithEntra(text))
    throw new Error(
      `AKS cluster '${target.name}' gave a user kubeconfig without Microsoft Entra sign-in: a local account's client certificate, ` +
        `cluster-admin whoever holds it. Setup applies rbac/ only as the signed-in user: enable Entra integration and disable local accounts ` +
        `(az aks update --resource-group ${target.resourceGroup} --name ${target.name} --enable-aad --disable-local-accounts), then run setup again`,
    );
  return signedIn(loadCluster(text, [new EntraTokens(credential).authenticator()]));
}

/** A connected cluster and who the API server says its user is. */
export async function signedIn(cluster: Cluster): Promise<SignedInCluster> {
  return { cluster, user: await whoAmI(cluster) };
}

/** The user as the API server authenticated it. */
export const whoAmI = selfSubjectReview;
