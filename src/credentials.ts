import type { TokenCredential } from '@azure/identity';
import { acrRefreshToken, acrRefreshTokenUser } from './azure/acr.js';
import { aksKubeconfig } from './azure/aks.js';
import { azureClouds } from './azure/cloud.js';
import { azureCredential } from './azure/identity.js';
import type { Docker } from './docker/docker.js';
import { login } from './docker/login.js';
import type { Settings } from './settings.js';

// Where the registry password and the kubeconfig come from: Microsoft Entra ID for ACR and AKS, the
// inputs for anything else. The Azure credential is made once, on first use, so its token cache is shared.

export class Credentials {
  private azure?: TokenCredential;
  private cluster?: Promise<string>;

  constructor(private readonly settings: Settings) {}

  private credential(): TokenCredential {
    this.azure ??= azureCredential(this.settings.azure, {
      authorityHost: azureClouds[this.settings.azure.cloud].authorityHost,
    });
    return this.azure;
  }

  async registryLogin(docker: Docker): Promise<void> {
    const registry = this.settings.registry;
    if (registry.kind === 'acr') {
      const token = await acrRefreshToken(registry.host, this.credential(), {
        tenantId: this.settings.azure.tenantId,
      });
      await login(docker, registry.host, acrRefreshTokenUser, token);
    } else if (registry.username) {
      await login(docker, registry.host, registry.username, registry.password);
    }
  }

  /** Fetched once a run: a preview's deploy and its namespace labels share one Azure Resource Manager call. */
  kubeconfig(): Promise<string> {
    const cluster = this.settings.cluster;
    if (cluster.kind === 'kubeconfig') return Promise.resolve(cluster.kubeconfig);
    this.cluster ??= aksKubeconfig(cluster, this.credential(), {
      armEndpoint: azureClouds[this.settings.azure.cloud].armEndpoint,
    });
    return this.cluster;
  }
}
