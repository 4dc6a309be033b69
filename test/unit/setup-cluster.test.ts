import { clusterFindings } from '../../src/setup/cluster-findings.js';

describe('clusterFindings', () => {
  it('finds nothing on a cluster with Entra, Kubernetes RBAC, no local accounts, a policy engine and app routing', () => {
    const cluster = {
      enableRbac: true,
      disableLocalAccounts: true,
      aadProfile: { managed: true, enableAzureRbac: false },
      networkProfile: { networkPolicy: 'cilium' },
      ingressProfile: {
        webAppRouting: {
          enabled: true,
          gatewayAPIImplementations: { appRoutingIstio: { mode: 'Enabled' } },
        },
        gatewayAPI: { installation: 'Standard' },
      },
    };
    expect(clusterFindings(cluster, 'rg', 'aks')).toEqual([]);
  });

  it('names each gap with its fix command on a default cluster', () => {
    const findings = clusterFindings(
      { enableRbac: true, networkProfile: { networkPolicy: 'none' } },
      'rg',
      'aks',
    );
    expect(findings).toEqual([
      expect.stringContaining('az aks update --resource-group rg --name aks --enable-aad'),
      expect.stringContaining('--disable-local-accounts'),
      expect.stringContaining('--network-policy azure'),
      expect.stringContaining(
        'az aks approuting enable --resource-group rg --name aks, then az aks update --resource-group rg --name aks --enable-gateway-api, then az aks approuting gateway istio enable',
      ),
    ]);
  });

  it("moves an app served by application routing's NGINX to its Gateway API implementation", () => {
    const findings = clusterFindings(
      {
        disableLocalAccounts: true,
        aadProfile: { managed: true },
        networkProfile: { networkPolicy: 'azure' },
        ingressProfile: { webAppRouting: { enabled: true } },
      },
      'rg',
      'aks',
    );
    expect(findings).toEqual([
      expect.stringMatching(
        /NGINX controller, whose Azure support ended in November 2026: .*az aks approuting gateway istio enable --resource-group rg --name aks \(GatewayClass approuting-istio/,
      ),
    ]);
  });

  it('says Azure role assignments grant Kubernetes rights beside rbac/ under Azure RBAC', () => {
    const findings = clusterFindings(
      {
        disableLocalAccounts: true,
        aadProfile: { managed: true, enableAzureRbac: true },
        networkProfile: { networkPolicy: 'azure' },
        ingressProfile: {
          webAppRouting: {
            enabled: true,
            nginx: { defaultIngressControllerType: 'None' },
            gatewayAPIImplementations: { appRoutingIstio: { mode: 'Enabled' } },
          },
        },
      },
      'rg',
      'aks',
    );
    expect(findings).toEqual([expect.stringMatching(/Azure RBAC.*--disable-azure-rbac/)]);
  });
});
