import * as core from '@actions/core';
import {
  type Configuration,
  HttpMethod,
  KubeConfig,
  type KubernetesObject,
  type RequestContext,
} from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import { proxyFor } from '../../util/proxy.js';
import { BadRedirect } from '../../util/redirect.js';
import { countRequest } from '../../util/requests.js';
import { backoff, retry } from '../../util/retry.js';
import { maskSecret } from '../../util/secrets.js';
import { hopeless } from '../../util/unreachable.js';
import { builtInResource } from './builtin-resources.js';
import { shareConnections } from './connections.js';
import { type Answer, sendPrepared } from './transport.js';

// The one seam every request of the action to the API server goes through (retries, outages, hopeless
// errors), sent by transport.ts; the watches (watch.ts) stream through stream.ts, with the same kubeconfig,
// and keep their own bounded retries. Requests carry JSON exactly as given: the library's typed serializer
// drops fields it does not know, which would hide a typo in a manifest from the API server's strict field
// validation. Only client-node's kubeconfig and auth are used: without its typed APIs, models and fetch
// transport, the bundle sheds a megabyte that every run would otherwise load (scripts/bundle.mjs).

const defaultRequestTimeoutMs = 30_000;
const defaultOutageMs = 90_000;
/** how long after an outage 401/403 mean "not yet" (a restarted API server's authorizer loading) */
export const authWarmUpMs = 30_000;

/**
 * The request got no HTTP answer; `refused` when the connection was refused, so it was never sent;
 * `hopeless` when no retry can help (util/unreachable.ts).
 */
class NoAnswer extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
    readonly hopeless?: string,
  ) {
    super(message);
    this.name = 'NoAnswer';
  }
}

/** fetch's own failure: no HTTP answer at all. */
function isNetworkError(error: unknown): boolean {
  return /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/.test(errorText(error));
}

/** 429 and 503: the server is up but not ready to serve (starting, or shedding load). */
function isBusy(error: unknown): boolean {
  return error instanceof KubeApiError && (error.status === 429 || error.status === 503);
}

/** A failed API call, with the server's Status (reason, causes) kept for the callers that explain it. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly serverMessage: string,
    readonly causes: StatusCause[],
    readonly request: string,
  ) {
    super(`${request}: ${status} ${reason}: ${serverMessage}`);
    this.name = 'KubeApiError';
  }
}

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** raw text instead of JSON (pod logs) */
  text?: boolean;
  timeoutMs?: number;
  /** how long an unreachable API server is waited for (default 90 s) */
  outageMs?: number;
  /** receives the answer's Warning headers (e.g. PodSecurity's "would violate" on a dry-run), unquoted */
  warnings?: string[];
  /** ends the retries (no pause, no line): a read nobody waits for any more (a dropped read-ahead) */
  signal?: AbortSignal;
}

export interface ResourceInfo {
  /** plural resource name in the URL, e.g. deployments */
  plural: string;
  namespaced: boolean;
}

export interface Cluster {
  kubeConfig: KubeConfig;
  /** the API server URL, for messages */
  server: string;
  /** JSON request to the API server; throws KubeApiError on a non-2xx answer */
  request<T = unknown>(method: Method, path: string, options?: RequestOptions): Promise<T>;
  /** GET of one object: undefined when it does not exist (404), any other failure thrown */
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T | undefined>;
  /** discovery: the resource behind apiVersion + kind, or undefined when the server does not serve it */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined>;
  /** URL path of a collection (no name) or an object */
  pathOf(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string>;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Reads a kubeconfig (the text of the file) and masks its credentials in the job log. `authenticators`
 * serve the kubeconfig's custom auth-providers (an Entra token renewed per request, for AKS).
 */
export function loadCluster(
  kubeconfigText: string,
  authenticators: Parameters<KubeConfig['addAuthenticator']>[0][] = [],
): Cluster {
  maskCredentials(kubeconfigText);
  const kc = new KubeConfig();
  shareConnections(kc);
  for (const authenticator of authenticators) kc.addAuthenticator(authenticator);
  try {
    kc.loadFromString(kubeconfigText);
  } catch (error) {
    throw new Error(
      `input 'kubeconfig': cannot be read as a kubeconfig (${firstLine(error)}); give the whole file, e.g. the output of 'az aks get-credentials --file -'`,
      { cause: error },
    );
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  const server = kc.getCurrentCluster()?.server;
  if (!context || !server)
    throw new Error(
      `input 'kubeconfig': has no usable current-context (current-context '${kc.getCurrentContext() || ''}', ` +
        `contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }); set current-context to a context whose cluster has a server URL`,
    );
  for (const user of kc.getUsers()) maskUser(user);
  // client-node takes a proxy from the kubeconfig's proxy-url only: the environment's goes there too
  kc.clusters = kc.clusters.map((c) => {
    const proxyUrl = c.proxyUrl ?? proxyFor(c.server);
    return proxyUrl ? { ...c, proxyUrl } : c;
  });
  const privateEndpoint = privateEndpointOf(server);
  if (privateEndpoint && process.env.RUNNER_ENVIRONMENT === 'github-hosted')
    throw new Error(
      `${unreachablePrivate(server, privateEndpoint)} This job runs on a GitHub-hosted runner, which never can.`,
    );
  const api = kc.makeApiClient(JsonApi);
  api.privateEndpoint = privateEndpoint;
  api.server = server;
  return {
    kubeConfig: kc,
    server,
    request: (method, path, options) => api.send(method, path, options ?? {}),
    get: <T>(path: string, options?: RequestOptions) =>
      api.send<T>('GET', path, options ?? {}).catch((error: unknown): undefined => {
        if (isNotFound(error)) return undefined;
        throw error;
      }),
    resource: (apiVersion, kind) => api.lookup(apiVersion, kind),
    async pathOf(apiVersion, kind, namespace, name) {
      const info = await api.lookup(apiVersion, kind);
      if (!info)
        throw new Error(
          `${kind} (${apiVersion}) is not served by the cluster at ${server}; check apiVersion and kind`,
        );
      const base = groupVersionPath(apiVersion);
      const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
      return `${base}${ns}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
    },
  };
}

/** The API path of a group/version: /api/v1 for the core group, /apis/<group>/<version> for the rest. */
function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Kind/name of an object, for messages. */
export function describeObject(o: KubernetesObject): string {
  return `${o.kind}/${o.metadata?.name ?? '?'}`;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

// Credential values are masked one line at a time: the runner masks a registered secret per line anyway,
// and masking the whole document would hide server URLs and names that the log needs.
const credentialLine =
  /^\s*-?\s*(token|client-key-data|password|access-token|refresh-token|client-secret|id-token)\s*:\s*(.+?)\s*$/;

function maskCredentials(text: string): void {
  for (const line of text.split(/\r?\n/)) {
    const value = credentialLine.exec(line)?.[2]?.replace(/^(['"])(.*)\1$/, '$2');
    if (value && value.length > 3) maskSecret(value);
  }
}

function maskUser(user: {
  token?: string;
  password?: string;
  keyData?: string;
  authProvider?: unknown;
}): void {
  for (const value of [user.token, user.password, user.keyData]) if (value) maskSecret(value);
  if (user.keyData) {
    // the decoded private key, line by line (the PEM armour lines are not secret)
    const pem = Buffer.from(user.keyData, 'base64').toString('utf8');
    for (const line of pem.split(/\r?\n/))
      if (line.trim() && !line.startsWith('-----')) maskSecret(line.trim());
  }
  const config = (user.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {};
  for (const [key, value] of Object.entries(config))
    if (/token|secret/i.test(key) && typeof value === 'string' && value) maskSecret(value);
}

/** RFC 7234 Warning header values as the API server sends them: 299 - "text", comma-joined when several. */
function warningsOf(header: string | undefined): string[] {
  if (!header) return [];
  return [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] ?? '').replace(/\\(.)/g, '$1'),
  );
}

function firstLine(error: unknown): string {
  return errorText(error).split('\n')[0] ?? '';
}

/**
 * Why the API server address is one only the cluster's own network reaches, or undefined: an AKS private
 * cluster's privatelink name, or an address of a private range (RFC 1918, RFC 6598, IPv6 ULA).
 */
export function privateEndpointOf(server: string): string | undefined {
  let host: string;
  try {
    host = new URL(server).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
  if (/(^|\.)privatelink\./.test(host))
    return `${host} is a private cluster's private endpoint (privatelink)`;
  const octets = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  if (octets) {
    const [a, b] = [Number(octets[1]), Number(octets[2])];
    if (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    )
      return `${host} is a private address`;
  }
  if (/^f[cd][0-9a-f]{2}:/.test(host)) return `${host} is a private (ULA) address`;
  return undefined;
}

function unreachablePrivate(server: string, why: string): string {
  return (
    `The API server ${server} cannot be reached from here: ${why}, which only the cluster's own network reaches. ` +
    "Run this job on a self-hosted runner in the cluster's network (or one peered with it), or, where the cluster " +
    "has a public FQDN ('az aks update --enable-public-fqdn'), set input 'aks-public-fqdn' to true so the kubeconfig names it."
  );
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Raw JSON requests and discovery over the transport, auth and proxy client-node configures. */
class JsonApi {
  /** set for a private endpoint: no answer before the first one fails at once, with the ways out */
  privateEndpoint: string | undefined;
  server = '';
  private answered = false;
  /** when a request last got no answer: the server may be restarting */
  private outageAt = 0;
  /** each group/version's resources, asked once however many lookups wait for it */
  private readonly discovery = new Map<string, Promise<ApiResource[] | undefined>>();

  constructor(private readonly configuration: Configuration) {}

  /** The resource behind apiVersion + kind; a group/version asked again when it lacks the kind (a new CRD). */
  async lookup(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const builtIn = builtInResource(apiVersion, kind);
    if (builtIn) return builtIn;
    const find = (resources: ApiResource[] | undefined) =>
      resources?.find((r) => r.kind === kind && !r.name.includes('/'));
    const cached = this.discovery.get(apiVersion);
    let resource = cached ? find(await cached.catch(() => undefined)) : undefined;
    if (!resource) {
      const asked = this.send<{ resources?: ApiResource[] }>('GET', groupVersionPath(apiVersion), {}).then(
        (list) => list.resources ?? [],
        (error: unknown) => {
          // a group/version the server does not serve: its kinds are not served
          if (isNotFound(error)) return undefined;
          throw error;
        },
      );
      this.discovery.set(apiVersion, asked);
      asked.catch(() => {
        if (this.discovery.get(apiVersion) === asked) this.discovery.delete(apiVersion);
      });
      resource = find(await asked);
    }
    return resource ? { plural: resource.name, namespaced: resource.namespaced } : undefined;
  }

  async send<T>(method: Method, path: string, options: RequestOptions): Promise<T> {
    const request = `${method} ${path}`;
    return this.withRetry(method, request, () => this.sendOnce<T>(method, path, options, request), options);
  }

  // An API server that restarts (an upgrade, a control plane move) refuses connections for a while: a
  // request that never reached it, or any GET, is tried again within a bounded outage.
  private async withRetry<T>(
    method: Method,
    what: string,
    fn: () => Promise<T>,
    { outageMs = defaultOutageMs, signal }: RequestOptions = {},
  ): Promise<T> {
    const giveUpAt = Date.now() + outageMs;
    return await retry(
      async () => {
        try {
          const result = await fn();
          this.answered = true;
          return result;
        } catch (error) {
          throw this.failure(error, what);
        }
      },
      {
        withinMs: outageMs,
        signal,
        delayMs: backoff(500, 5_000),
        retryable: (error) =>
          error instanceof NoAnswer
            ? error.refused || method === 'GET'
            : (method === 'GET' && (isBusy(error) || isNetworkError(error))) || this.warmingUp(error),
        onRetry: (error, attempt) => {
          if (attempt !== 1) return;
          // a NoAnswer's message starts with the request already
          const text = errorText(error);
          core.info(
            `${text.startsWith(what) ? text : `${what}: ${text}`}; trying again for up to ${Math.round((giveUpAt - Date.now()) / 1000)} s`,
          );
        },
      },
    );
  }

  /** A failed attempt, noted; a hopeless one becomes the error that says why it cannot heal. */
  private failure(error: unknown, what: string): unknown {
    if (error instanceof KubeApiError) this.answered = true;
    // a private endpoint that never answered is out of this runner's reach, not restarting
    if (this.privateEndpoint && !this.answered && (error instanceof NoAnswer || isNetworkError(error)))
      return new Error(`${errorText(error)}\n${unreachablePrivate(this.server, this.privateEndpoint)}`, {
        cause: error,
      });
    const never =
      error instanceof NoAnswer
        ? error.hopeless
        : isNetworkError(error)
          ? hopeless(error, this.server, "the kubeconfig's server")
          : undefined;
    if (never) return new Error(`${what}: cannot reach the API server: ${never}`, { cause: error });
    if (error instanceof NoAnswer || isNetworkError(error)) this.outageAt = Date.now();
    return error;
  }

  // A restarted API server serves before its authorizer has loaded the RBAC bindings (and, behind a load
  // balancer, a fresh instance may not yet trust the token issuer): for a short while after an outage, 401
  // and 403 say "not yet", not "never". Either refuses the request before it has any effect.
  private warmingUp(error: unknown): boolean {
    const status = error instanceof KubeApiError ? error.status : undefined;
    return (status === 401 || status === 403) && Date.now() - this.outageAt < authWarmUpMs;
  }

  private async sendOnce<T>(
    method: Method,
    path: string,
    options: RequestOptions,
    request: string,
  ): Promise<T> {
    countRequest();
    let ctx: RequestContext = this.configuration.baseServer.makeRequestContext(path, HttpMethod[method]);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) ctx.setQueryParam(key, String(value));
    ctx.setHeaderParam('Accept', options.text ? 'text/plain, */*' : 'application/json');
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(options.body));
    }
    ctx.setSignal(AbortSignal.timeout(options.timeoutMs ?? defaultRequestTimeoutMs));
    await this.configuration.authMethods.default?.applySecurityAuthentication(ctx);
    for (const middleware of this.configuration.middleware) ctx = await middleware.pre(ctx).toPromise();
    let answer: Answer;
    const started = performance.now();
    try {
      answer = await sendPrepared(ctx, path);
    } catch (error) {
      if (error instanceof BadRedirect) throw error;
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new NoAnswer(
        `${request}: no answer from the API server (${new URL(ctx.getUrl()).origin}): ${errorText(error)}${cause ? `: ${errorText(cause)}` : ''}`,
        (cause?.code ?? (error as { code?: string }).code) === 'ECONNREFUSED',
        hopeless(error, ctx.getUrl(), "the kubeconfig's server"),
      );
    }
    const { status, text } = answer;
    if (options.warnings) options.warnings.push(...warningsOf(answer.warning));
    // the runner's debug logging (RUNNER_DEBUG): every request, its answer and how long it took
    if (core.isDebug())
      core.debug(
        `${request}${options.query?.dryRun ? ' (dry-run)' : ''}: ${status} in ${Math.round(performance.now() - started)} ms`,
      );
    if (status >= 200 && status < 300) {
      if (options.text) return text as T;
      return (text ? JSON.parse(text) : undefined) as T;
    }
    let parsed: { reason?: string; message?: string; details?: { causes?: StatusCause[] } } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { message: text.slice(0, 500) };
    }
    throw new KubeApiError(
      status,
      parsed.reason ?? 'Error',
      parsed.message ?? text.slice(0, 500),
      parsed.details?.causes ?? [],
      request,
    );
  }
}
