import type { TokenCredential } from '@azure/identity';
import { acrRefreshToken, acrRefreshTokenUser } from './azure/acr.js';
import { aksKubeconfig } from './azure/aks.js';
import { EntraTokens } from './azure/cluster-token.js';
import { azureCredential } from './azure/identity.js';
import type { Docker } from './docker/docker.js';
import { login } from './docker/login.js';
import { type Cluster, loadCluster } from './kube/client.js';
import type { Settings } from './settings.js';

// Where the registry password and the kubeconfig come from: Microsoft Entra ID for ACR and AKS, the
// inputs for anything else. The Azure credential is made once, on first use, so its token cache is shared.

export class Credentials {
  private azure?: TokenCredential;
  private client?: Promise<Cluster>;
  /** the cluster's Entra tokens on AKS: what renewing them cost is logged at the end, for the benchmark */
  tokens?: EntraTokens;

  constructor(private readonly settings: Settings) {}

  private credential(): TokenCredential {
    this.azure ??= azureCredential(this.settings.azure, {
      authorityHost: this.settings.azure.endpoints.authorityHost,
      oidcAudience: this.settings.azure.oidcAudience,
    });
    return this.azure;
  }

  async registryLogin(docker: Docker): Promise<void> {
    const registry = this.settings.registry;
    if (registry.kind === 'acr') {
      const token = await acrRefreshToken(registry.host, this.credential(), {
        tenantId: this.settings.azure.tenantId,
        armEndpoint: this.settings.azure.endpoints.armEndpoint,
      });
      await login(docker, registry.host, acrRefreshTokenUser, token);
    } else if (registry.username) {
      await login(docker, registry.host, registry.username, registry.password);
    }
  }

  /**
   * The cluster client, made once a run: a preview's deploy and its namespace labels share one Azure Resource
   * Manager call. On AKS every request carries a current Entra token (EntraTokens renews it before expiry).
   */
  cluster(): Promise<Cluster> {
    const cluster = this.settings.cluster;
    if (cluster.kind === 'kubeconfig') {
      this.client ??= Promise.resolve().then(() => loadCluster(cluster.kubeconfig));
      return this.client;
    }
    this.client ??= aksKubeconfig(cluster, this.credential(), {
      armEndpoint: this.settings.azure.endpoints.armEndpoint,
    }).then((text) => {
      this.tokens = new EntraTokens(this.credential());
      return loadCluster(text, [this.tokens.authenticator()]);
    });
    return this.client;
  }
}
