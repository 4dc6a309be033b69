import type { TokenCredential } from '@azure/identity';
import type { KubeConfig, User } from '@kubernetes/client-node';
import { maskSecret } from '../util/secrets.js';

// The AKS API server takes Microsoft Entra access tokens, which live 60-90 minutes. A deploy can outlast one
// (a long build, the lock's wait, a rollout, a rollback), so the cluster client asks for a token on every
// request: the one it holds until it nears its expiry, then a new one from the credential.

/** The kubeconfig auth-provider that stands for "an Entra token for config.scope, from this run's credential". */
export const entraAuthProvider = 'archetype-deploy-entra';

const maxMarginMs = 5 * 60_000;

/** client-node's Authenticator, which its index does not export */
export type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

interface Held {
  token: string;
  refreshAt: number;
}

export class EntraTokens {
  /** tokens fetched from the credential, the time spent fetching them and the requests given one: the log
   * line the benchmark reads */
  acquired = 0;
  fetchMs = 0;
  served = 0;
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly credential: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token for the scope that is good for a while yet; concurrent callers share one request. */
  async get(scope: string): Promise<string> {
    const held = this.held.get(scope);
    if (held && this.now() < held.refreshAt) return held.token;
    let pending = this.pending.get(scope);
    if (!pending) {
      pending = this.fetch(scope).finally(() => this.pending.delete(scope));
      this.pending.set(scope, pending);
    }
    return pending;
  }

  private async fetch(scope: string): Promise<string> {
    const started = this.now();
    const got = await this.credential.getToken(scope).finally(() => {
      this.fetchMs += this.now() - started;
    });
    if (!got?.token) throw new Error(`the Azure credential returned no token for ${scope}`);
    maskSecret(got.token);
    this.acquired++;
    const now = this.now();
    // renewed 5 minutes before it expires, or halfway through a shorter life
    const margin = Math.min(maxMarginMs, Math.max(0, got.expiresOnTimestamp - now) / 2);
    this.held.set(scope, { token: got.token, refreshAt: got.expiresOnTimestamp - margin });
    return got.token;
  }

  /** One line for the log: what the renewal cost this run. */
  describe(): string {
    return `cluster tokens: ${this.acquired} fetched from Microsoft Entra ID in ${this.fetchMs} ms in all, ${this.served} API requests authenticated`;
  }

  /** For @kubernetes/client-node: every request of a user with our auth-provider gets a current token. */
  authenticator(): Authenticator {
    return {
      isAuthProvider: (user: User) => user.authProvider?.name === entraAuthProvider,
      applyAuthentication: async (user: User, opts) => {
        const scope = (user.authProvider?.config as Record<string, string> | undefined)?.scope;
        if (!scope)
          throw new Error(`kubeconfig user ${user.name}: auth-provider ${entraAuthProvider} has no scope`);
        const token = await this.get(scope);
        this.served++;
        opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
      },
    };
  }
}
