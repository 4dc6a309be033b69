import { aksServerAppId } from '../../src/azure/aks.js';
import { kubeconfigText } from './cluster.js';

/**
 * A user's kubeconfig as AKS returns it for an Entra-integrated cluster (List Cluster User Credentials with
 * format=exec: a kubelogin entry, no credential), pointing at the local API server, which trusts the tokens
 * FakeAzure signs with the local issuer (FakeAzure.signWithLocalIssuer([aksServerAppId])).
 */
export function aksUserKubeconfig(): string {
  const text = kubeconfigText();
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  const ca = /certificate-authority-data:\s*(\S+)/.exec(text)?.[1];
  if (!server || !ca) throw new Error('the admin kubeconfig has no server or CA data');
  return `apiVersion: v1
kind: Config
clusters: [{name: aks, cluster: {server: '${server}', certificate-authority-data: ${ca}}}]
contexts: [{name: aks, context: {cluster: aks, user: clusterUser_rg_aks}}]
current-context: aks
users:
- name: clusterUser_rg_aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --server-id, ${aksServerAppId}, --login, devicecode]
`;
}
