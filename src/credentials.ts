import type { TokenCredential } from '@azure/identity';
import type { EntraTokens } from './azure/cluster-token.js';
import type { Docker } from './docker/docker.js';
import { login } from './docker/login.js';
import { type Cluster, loadCluster } from './kube/client/client.js';
import { Registry, type RegistryAuth } from './registry/client.js';
import type { Settings } from './settings.js';

// Where the registry password and the kubeconfig come from: Microsoft Entra ID for ACR and AKS, the
// inputs for anything else. The Azure credential is made once, on first use, so its token cache is shared.
// The Azure code (and @azure/identity) is loaded only by runs that use Azure.

export class Credentials {
  private azure?: TokenCredential;
  private client?: Promise<Cluster>;
  private auth?: Promise<RegistryAuth | undefined>;
  private registryClient?: Promise<Registry>;
  /** the cluster's Entra tokens on AKS: what renewing them cost is logged at the end, for the benchmark */
  tokens?: EntraTokens;
  /** on AKS, once the cluster is reached: the kubeconfig signs in with Entra (false: a local account) */
  entraSignIn?: boolean;

  constructor(private readonly settings: Settings) {}

  private async credential(): Promise<TokenCredential> {
    const { azureCredential } = await import('./azure/identity.js');
    this.azure ??= azureCredential(this.settings.azure, {
      authorityHost: this.settings.azure.endpoints.authorityHost,
      oidcAudience: this.settings.azure.oidcAudience,
    });
    return this.azure;
  }

  /** The registry's username and password: ACR's refresh token for ACR, the inputs otherwise (if any). */
  registryAuth(): Promise<RegistryAuth | undefined> {
    const registry = this.settings.registry;
    this.auth ??=
      registry.kind === 'acr'
        ? this.acrAuth(registry.host)
        : Promise.resolve(
            registry.username ? { username: registry.username, password: registry.password } : undefined,
          );
    return this.auth;
  }

  private async acrAuth(host: string): Promise<RegistryAuth> {
    const { acrRefreshToken, acrRefreshTokenUser } = await import('./azure/acr.js');
    const token = await acrRefreshToken(host, await this.credential(), {
      tenantId: this.settings.azure.tenantId,
      armEndpoint: this.settings.azure.endpoints.armEndpoint,
    });
    return { username: acrRefreshTokenUser, password: token };
  }

  /** docker, logged in to the registry (for buildx's push). */
  async registryLogin(docker: Docker): Promise<void> {
    const auth = await this.registryAuth();
    if (auth) await login(docker, this.settings.registry.host, auth.username, auth.password);
  }

  /** The registry's HTTP API, with the same credentials. */
  async registry(): Promise<Registry> {
    this.registryClient ??= this.registryAuth().then(
      (auth) => new Registry(this.settings.registry.host, auth),
    );
    return this.registryClient;
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
    this.client ??= this.aksCluster(cluster);
    return this.client;
  }

  /**
   * Why a preview may not be made here (an AKS cluster without a network policy engine), or undefined; for a
   * kubeconfig cluster, which cannot be asked, undefined too: the caller says it was not checked.
   */
  async previewIsolationRefusal(): Promise<string | undefined> {
    const cluster = this.settings.cluster;
    if (cluster.kind !== 'aks') return undefined;
    const { aksNetworkPolicy, isolationRefusal } = await import('./azure/network-policy.js');
    const found = await aksNetworkPolicy(cluster, await this.credential(), {
      armEndpoint: this.settings.azure.endpoints.armEndpoint,
    });
    return isolationRefusal(cluster, found);
  }

  private async aksCluster(cluster: Extract<Settings['cluster'], { kind: 'aks' }>): Promise<Cluster> {
    const [{ aksKubeconfig }, { EntraTokens }] = await Promise.all([
      import('./azure/aks.js'),
      import('./azure/cluster-token.js'),
    ]);
    const credential = await this.credential();
    const text = await aksKubeconfig(cluster, credential, {
      armEndpoint: this.settings.azure.endpoints.armEndpoint,
    });
    const { signsInWithEntra } = await import('./azure/aks.js');
    this.entraSignIn = signsInWithEntra(text);
    this.tokens = new EntraTokens(credential);
    return loadCluster(text, [this.tokens.authenticator()]);
  }
}
