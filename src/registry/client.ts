import { errorWithCause } from '../util/errors.js';
import { httpRetryPolicy, NoConnection, withHttpRetries } from '../util/http-retry.js';
import { BadRedirect } from '../util/redirect.js';
import { hopeless } from '../util/unreachable.js';
import { type Exchange, exchange } from './http.js';
import { registryOrigin } from './reference.js';

// The one seam to an OCI registry's HTTP API (the OCI Distribution Specification), for what the action reads
// and tags without the docker CLI: no process to start, and a rollback needs no docker at all. A 401 is
// answered the way docker answers it: its WWW-Authenticate challenge says Basic (the credentials as they
// are) or Bearer (a token from the realm, per the Docker Registry token authentication specification,
// which ACR's /oauth2/token follows, with the same username and password, as docker login gives them).
// Unlike docker, the username and password go to a realm only over https or to the registry's own origin
// (or, for a registry on this machine, to this machine): a registry cannot send them elsewhere in the clear.

export interface RegistryAuth {
  username: string;
  password: string;
}

export type RegistryAnswer = Exchange;

export class Registry {
  /** the Authorization header per scope, once a challenge was answered */
  private readonly authorization = new Map<string, string>();
  /** the registry asked for Basic once: the same credentials serve every scope, without a new challenge */
  private basic: string | undefined;
  private readonly origin: string;

  constructor(
    readonly host: string,
    private readonly auth?: RegistryAuth,
  ) {
    this.origin = registryOrigin(host);
  }

  /**
   * One request under /v2/<repository>/, authorized for pull (or pull and push); 408, 429, 5xx and failed
   * connections are tried again, as util/http-retry.ts says. Every answer is returned, the caller judges
   * its status.
   */
  async request(
    method: 'GET' | 'HEAD' | 'PUT',
    repository: string,
    path: string,
    options: { push?: boolean; headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<RegistryAnswer> {
    const url = `${this.origin}/v2/${repository}/${path}`;
    const scope = `repository:${repository}:${options.push ? 'pull,push' : 'pull'}`;
    const what = `${method} ${url}`;
    return await withHttpRetries(what, async () => {
      let answer = await this.send(method, url, options, this.authorization.get(scope) ?? this.basic);
      if (answer.status === 401) {
        const header = await this.authorize(answer.headers.get('www-authenticate'), scope, what);
        this.authorization.set(scope, header);
        answer = await this.send(method, url, options, header);
      }
      return answer;
    });
  }

  private async send(
    method: 'GET' | 'HEAD' | 'PUT',
    url: string,
    options: { headers?: Record<string, string>; body?: Buffer },
    authorization: string | undefined,
  ): Promise<RegistryAnswer> {
    try {
      return await exchange(method, url, {
        headers: { ...options.headers, ...(authorization ? { authorization } : {}) },
        ...(options.body ? { body: options.body } : {}),
        timeoutMs: httpRetryPolicy.timeoutMs,
      });
    } catch (error) {
      if (error instanceof BadRedirect) throw error;
      const never = hopeless(error, url, `registry ${this.host}`);
      if (never) throw new Error(`${method} ${url}: cannot reach the registry: ${never}`, { cause: error });
      throw new NoConnection(`${method} ${url}: no answer from the registry: ${errorWithCause(error)}`, {
        cause: error,
      });
    }
  }

  /** The Authorization header that answers a 401's challenge, for `scope`. */
  private async authorize(challenge: string | null, scope: string, what: string): Promise<string> {
    const parsed = parseChallenge(challenge ?? '');
    if (!parsed)
      throw new Error(
        `${what}: 401 with no challenge this action can answer (WWW-Authenticate: ${challenge})`,
      );
    if (!this.auth)
      throw new Error(
        `${what}: the registry wants credentials (401), and none were given: set inputs registry-username and registry-password, or use ACR with an Azure identity`,
      );
    const basic = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    if (parsed.scheme === 'basic') {
      this.basic = basic;
      return basic;
    }
    const realm = parsed.params.realm;
    if (!realm) throw new Error(`${what}: the registry's Bearer challenge names no realm (${challenge})`);
    const url = credentialRealm(realm, this.origin, this.host);
    if (parsed.params.service) url.searchParams.set('service', parsed.params.service);
    url.searchParams.set('scope', scope);
    const answer = await this.send('GET', url.toString(), { headers: { authorization: basic } }, undefined);
    if (answer.status === 401 || answer.status === 403)
      throw new Error(
        `the registry's token server (${url.origin}) refused ${this.auth.username} for ${scope} (${answer.status}): check the registry credentials (inputs registry-username/registry-password, or the Azure identity's AcrPull/AcrPush role for ACR)`,
      );
    const token = tokenOf(answer.body);
    if (answer.status !== 200 || !token)
      throw new Error(
        `the registry's token server (${url.origin}) answered ${answer.status} without a token: ${quote(answer.body)}`,
      );
    return `Bearer ${token}`;
  }
}

/**
 * The token realm a registry's challenge names, as a URL the credentials may be sent to: over https, or to
 * the registry's own origin, or (a registry on this machine, which is itself plain http) to this machine.
 * Anything else would hand the password to whoever the registry names, in the clear: an error naming both.
 */
export function credentialRealm(realm: string, origin: string, registryHost: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (error) {
    throw new Error(`registry ${registryHost} names a token realm that is not a URL (${realm})`, {
      cause: error,
    });
  }
  const registry = new URL(origin);
  if (url.protocol === 'https:' || url.origin === registry.origin) return url;
  if (
    url.protocol === 'http:' &&
    registry.protocol === 'http:' &&
    isLoopback(registry.hostname) &&
    isLoopback(url.hostname)
  )
    return url;
  throw new Error(
    `registry ${registryHost} names the token realm ${url.origin}${url.pathname}, which is neither https nor the registry's own origin (${registry.origin}): the registry credentials are not sent there`,
  );
}

function isLoopback(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** The body as an error message quotes it: one line, at most 300 characters. */
export function quote(body: Buffer): string {
  const line = body.toString('utf8').replace(/\s+/g, ' ').trim();
  if (!line) return '(empty body)';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** `Basic realm="x"` or `Bearer realm="…",service="…",scope="…"`; undefined for other schemes. */
export function parseChallenge(
  header: string,
): { scheme: 'basic' | 'bearer'; params: Record<string, string> } | undefined {
  const match = /^\s*(basic|bearer)\b\s*(.*)$/i.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of (match[2] ?? '').matchAll(/([a-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/gi))
    params[(m[1] ?? '').toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: (match[1] ?? '').toLowerCase() as 'basic' | 'bearer', params };
}

function tokenOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
    const token = parsed.token ?? parsed.access_token;
    return typeof token === 'string' && token ? token : undefined;
  } catch {
    return undefined;
  }
}
