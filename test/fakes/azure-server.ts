// A local HTTPS stand-in for the parts of Azure and GitHub that cannot be reached from here. Each route follows
// one public document and no more; it records every request so that tests assert what the code sent.
//
// Why HTTPS with a certificate made at test time: MSAL refuses an authority that is not https
// (authority_uri_insecure). The certificate is trusted in this process with tls.setDefaultCACertificates
// (Node 24, documented in node:tls), which every TLS client without its own `ca` uses from then on:
// fetch (undici), node:https (@azure/identity's pipeline, @actions/http-client). That keeps the code under
// test in the jest process, unlike a child process started with NODE_EXTRA_CA_CERTS; close() restores the
// previous CA list.

import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { armCaller, armError } from './azure-arm-reply.js';
import { FakeArmSetup } from './azure-arm-setup.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The body parsed as application/x-www-form-urlencoded (empty for other bodies). */
  form: Record<string, string>;
  /** The body as sent (ARM's JSON bodies; test/fakes/azure-arm-setup.ts parses them). */
  body: string;
}

export interface FakeCluster {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** The kubeconfig texts ARM returns, base64-encoded, by kubeconfig name. */
  /** clusterUserPublic: what server-fqdn=public returns (a private cluster with a public FQDN) */
  kubeconfigs: { clusterUser: string; clusterAdmin?: string; clusterUserPublic?: string };
  /** Principals (appid) holding a role that allows listClusterUserCredential / listClusterAdminCredential. */
  users: string[];
  admins: string[];
  /**
   * Where the users' and admins' roles are assigned: 'cluster' (least privilege, as docs/github-setup.md
   * assigns them) makes ARM answer 403 AuthorizationFailed for any path they cannot see, a mistyped
   * subscription, resource group or cluster included; unset: the subscription, where those answer 404.
   */
  roleScope?: 'cluster';
  /** properties.networkProfile.networkPolicy of Managed Clusters - Get ('azure', 'calico', 'cilium', 'none'; unset: absent) */
  networkPolicy?: string;
  /** networkProfile.networkPlugin ('azure' unless set: 'kubenet', 'none') and networkDataplane ('cilium'; unset: absent) */
  networkPlugin?: string;
  networkDataplane?: string;
  /** more properties of Managed Clusters - Get (aadProfile, disableLocalAccounts, ingressProfile) */
  properties?: Record<string, unknown>;
  /** the object id of the kubelet's managed identity (identityProfile.kubeletidentity); unset: none */
  kubeletObjectId?: string;
}

interface Reply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

export const githubIssuer = 'https://token.actions.githubusercontent.com';

export class FakeAzure {
  readonly requests: RecordedRequest[] = [];
  readonly tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  /** Entra ID app registrations: client secrets and federated credentials (GitHub subjects). */
  readonly apps = new Map<string, { secret?: string; federatedSubjects?: string[] }>();
  /** The job's GitHub OIDC token request: its bearer token and the subject it issues tokens for. */
  readonly github = {
    requestToken: 'gh-request-token',
    subject: 'repo:team/archetype:ref:refs/heads/main',
    /** the audience the federated credentials name: the cloud's (api://AzureADTokenExchange[USGov|China]) */
    audience: 'api://AzureADTokenExchange',
  };
  /**
   * The registry whose /oauth2/exchange this serves, and the principals with AcrPush on it. As ACR does, the
   * exchange succeeds for any identity of the tenant; the refresh token's permissions say what it may do.
   */
  readonly acr = { registry: 'archetype.azurecr.io', pushers: [] as string[] };
  readonly clusters: FakeCluster[] = [];
  /** setup's ARM resources (identities, role assignments, registries, the caller's rights): azure-arm-setup.ts */
  readonly setup = new FakeArmSetup(this.tenantId, (clientId, objectId, subjects) => {
    this.apps.set(clientId, { federatedSubjects: subjects });
    this.objectIds.set(clientId, objectId);
  });
  /**
   * Signs access tokens for these audiences as Entra ID does (RS256, kid, iss, exp) with the local target's
   * signing key, so that the local API server, which trusts that issuer, accepts them: the AKS server app.
   */
  signing: { key: string; kid: string; issuer: string; audiences: string[] } | undefined;
  /** Lifetime of the access tokens this fake issues (Entra's are 60-90 minutes). */
  tokenLifetimeSeconds = 3599;
  /** Object ids (the oid claim) by client id; default oid-<client id>. */
  readonly objectIds = new Map<string, string>();
  /** Answers served once, before the route's own, by "METHOD /path". */
  private readonly injected = new Map<string, Reply[]>();
  private readonly issued = new Map<string, Record<string, unknown>>();
  private serial = 0;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
    private readonly previousCAs: string[],
    /** the server's certificate (PEM): a child process trusts it through NODE_EXTRA_CA_CERTS */
    readonly certificate: string,
  ) {}

  static async start(): Promise<FakeAzure> {
    const { key, cert } = selfSignedCertificate();
    const previousCAs = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...previousCAs, cert]);
    let fake: FakeAzure | undefined;
    const server = createServer({ key, cert }, (req, res) => {
      fake
        ?.handle(req, res)
        .catch((error: unknown) => send(res, { status: 500, json: { error: String(error) } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeAzure(server, `https://127.0.0.1:${port}`, previousCAs, cert);
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    tls.setDefaultCACertificates(this.previousCAs);
  }

  /** Serve `reply` once to the next "METHOD /path" request instead of the route's own answer. */
  inject(route: string, reply: Reply): void {
    this.injected.set(route, [...(this.injected.get(route) ?? []), reply]);
  }

  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  /** Trust the local target's Entra issuer (scripts/local-stack env): tokens for `audiences` get signed. */
  signWithLocalIssuer(audiences: string[]): void {
    const { ENTRA_SIGNING_KEY, ENTRA_KID, ENTRA_ISSUER } = process.env;
    if (!ENTRA_SIGNING_KEY || !ENTRA_KID || !ENTRA_ISSUER)
      throw new Error(
        'ENTRA_SIGNING_KEY, ENTRA_KID and ENTRA_ISSUER are not set: eval "$(scripts/local-stack env)"',
      );
    this.signing = {
      key: readFileSync(ENTRA_SIGNING_KEY, 'utf8'),
      kid: ENTRA_KID,
      issuer: ENTRA_ISSUER,
      audiences,
    };
  }

  /** An unsigned JWT-shaped token this fake remembers having issued, so that forged ones are refused. */
  issue(claims: Record<string, unknown>): string {
    const signing = this.signing;
    if (signing?.audiences.includes(String(claims.aud))) {
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const body = {
        iss: signing.issuer,
        iat: now,
        nbf: now,
        exp: now + this.tokenLifetimeSeconds,
        ...claims,
      };
      const input = `${part({ typ: 'JWT', alg: 'RS256', kid: signing.kid })}.${part({ ...body, jti: String(++this.serial) })}`;
      const token = `${input}.${sign('sha256', Buffer.from(input), signing.key).toString('base64url')}`;
      this.issued.set(token, body);
      return token;
    }
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ typ: 'JWT', alg: 'none' })}.${part({ ...claims, jti: ++this.serial })}.fake`;
    this.issued.set(token, claims);
    return token;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    let body = '';
    for await (const chunk of req) body += chunk;
    const form = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(body))
      : {};
    const request: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      form,
      body,
    };
    this.requests.push(request);
    const injected = this.injected.get(`${request.method} ${request.path}`)?.shift();
    send(res, injected ?? this.route(request));
  }

  private route(r: RecordedRequest): Reply {
    const openIdConfiguration = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(r.path);
    const tokenEndpoint = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(r.path);
    const clusterCredentials =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)\/(listClusterUserCredential|listClusterAdminCredential)$/.exec(
        r.path,
      );
    // OpenID Connect Discovery 1.0, as the Microsoft identity platform publishes it
    // ("OpenID Connect on the Microsoft identity platform": /{tenant}/v2.0/.well-known/openid-configuration).
    if (r.method === 'GET' && openIdConfiguration) {
      const base = `${this.url}/${openIdConfiguration[1]}`;
      return {
        status: 200,
        json: {
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          token_endpoint_auth_methods_supported: [
            'client_secret_post',
            'private_key_jwt',
            'client_secret_basic',
          ],
        },
      };
    }
    // "Microsoft identity platform and the OAuth 2.0 client credentials flow": POST /{tenant}/oauth2/v2.0/token
    // with a client secret, or a client_assertion (workload identity federation: the GitHub OIDC token).
    if (r.method === 'POST' && tokenEndpoint) return this.token(tokenEndpoint[1] ?? '', r.form);
    // GitHub Actions OIDC: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=..., Authorization: Bearer
    // $ACTIONS_ID_TOKEN_REQUEST_TOKEN, answering {"value": <JWT>} ("Security hardening with OpenID Connect").
    if (r.method === 'GET' && r.path === '/github/idtoken') {
      if (r.headers.authorization !== `Bearer ${this.github.requestToken}`)
        return { status: 401, json: { message: 'Bad credentials' } };
      return {
        status: 200,
        json: {
          value: this.issue({
            iss: githubIssuer,
            aud: r.query.audience ?? githubIssuer,
            sub: this.github.subject,
          }),
        },
      };
    }
    // Azure/acr docs/AAD-OAuth.md: POST /oauth2/exchange, form grant_type=access_token, service, tenant,
    // access_token; answers {"refresh_token": ...}, errors as {"errors":[{"code","message"}]}.
    if (r.method === 'POST' && r.path === '/oauth2/exchange') return this.exchange(r.form);
    // Azure REST API, "Managed Clusters - List Cluster User Credentials" / "List Cluster Admin Credentials";
    // errors in the ARM error response shape {"error":{"code","message"}}.
    // "Managed Clusters - Get" (specification/containerservice, examples/ManagedClustersGet.json): the
    // cluster with its properties; the Cluster User Role's managedClusters/read allows it
    const managedCluster =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/.exec(
        r.path,
      );
    if (r.method === 'GET' && managedCluster)
      return this.credentials(r, [...managedCluster.slice(1).map(decodeURIComponent), 'read'] as [
        string,
        string,
        string,
        string,
      ]);
    if (r.method === 'POST' && clusterCredentials)
      return this.credentials(
        r,
        clusterCredentials.slice(1).map(decodeURIComponent) as [string, string, string, string],
      );
    const setup = this.setup.route(
      r,
      this.issued.get(r.headers.authorization?.replace(/^Bearer /, '') ?? ''),
      this.url,
    );
    if (setup) return setup;
    return { status: 404, json: { error: { code: 'NotFound', message: `${r.method} ${r.path}` } } };
  }

  private token(tenant: string, form: Record<string, string>): Reply {
    const aadError = (status: number, error: string, description: string): Reply => ({
      status,
      json: {
        error,
        error_description: description,
        error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1])],
      },
    });
    if (form.grant_type !== 'client_credentials')
      return aadError(
        400,
        'unsupported_grant_type',
        'AADSTS70003: The app requested an unsupported grant type.',
      );
    if (tenant !== this.tenantId)
      return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    const clientId = form.client_id ?? '';
    const app = this.apps.get(clientId);
    if (!app)
      return aadError(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`,
      );
    if (form.client_assertion !== undefined) {
      const assertion = this.issued.get(form.client_assertion);
      if (
        form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' ||
        assertion?.iss !== githubIssuer ||
        assertion.aud !== this.github.audience ||
        !app.federatedSubjects?.includes(String(assertion.sub))
      )
        return aadError(
          400,
          'invalid_client',
          `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${String(assertion?.iss)}'. Assertion Subject: '${String(assertion?.sub)}'.`,
        );
    } else if (!app.secret || form.client_secret !== app.secret) {
      return aadError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    const scope = form.scope?.split(' ').find((s) => s.endsWith('/.default')) ?? '';
    const accessToken = this.issue({
      aud: scope.slice(0, -'/.default'.length),
      tid: tenant,
      appid: clientId,
      oid: this.objectIds.get(clientId) ?? `oid-${clientId}`,
    });
    return {
      status: 200,
      json: {
        token_type: 'Bearer',
        expires_in: this.tokenLifetimeSeconds,
        ext_expires_in: this.tokenLifetimeSeconds,
        access_token: accessToken,
      },
    };
  }

  private exchange(form: Record<string, string>): Reply {
    const unauthorized = (message: string): Reply => ({
      status: 401,
      json: { errors: [{ code: 'UNAUTHORIZED', message }] },
    });
    if (form.grant_type !== 'access_token')
      return {
        status: 400,
        json: { errors: [{ code: 'UNSUPPORTED', message: 'grant_type not supported' }] },
      };
    if (form.service !== this.acr.registry)
      return unauthorized(`service '${form.service}' is not this registry`);
    const claims = this.issued.get(form.access_token ?? '');
    // AAD-OAuth.md: the access token may be for ACR's audience or for Azure Resource Manager's
    if (
      (claims?.aud !== 'https://containerregistry.azure.net' && claims?.aud !== this.url) ||
      claims.tid !== form.tenant
    )
      return unauthorized('invalid token or tenant');
    // AAD-OAuth.md: any valid Entra token of the tenant gets a refresh token, whatever roles the identity
    // holds; what it may do is decided per scope at /oauth2/token, so an identity without AcrPush signs in
    // and its push is refused by the registry (401 insufficient_scope), not here.
    const pusher = this.acr.pushers.includes(String(claims.appid));
    return {
      status: 200,
      json: {
        refresh_token: this.issue({
          iss: 'Azure Container Registry',
          aud: this.acr.registry,
          sub: String(claims.oid ?? claims.appid),
          tenant: form.tenant,
          grant_type: 'refresh_token',
          permissions: { actions: pusher ? ['*'] : [], notActions: [] },
        }),
      },
    };
  }

  /**
   * Whether `principalId` holds, through a role assignment made on the stand-in (setup's), the AKS role whose
   * actions include the request: Cluster User Role (listClusterUserCredential, read) or Cluster Admin Role
   * (both), at the cluster or a scope above it.
   */
  private holdsClusterRole(principalId: string, clusterId: string, admin: boolean): boolean {
    const roles = ['0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8'];
    if (!admin) roles.push('4abbcc35-e782-43d8-92c5-2d3f1bd2253f');
    const within = (scope: string) => `${clusterId.toLowerCase()}/`.startsWith(`${scope.toLowerCase()}/`);
    return this.setup.roleAssignments.some(
      (a) =>
        a.principalId === principalId &&
        within(a.scope) &&
        roles.some((role) => a.roleDefinitionId.toLowerCase().endsWith(role)),
    );
  }

  private credentials(
    r: RecordedRequest,
    [subscription, group, name, action]: [string, string, string, string],
  ): Reply {
    const caller = armCaller(
      this.issued.get(r.headers.authorization?.replace(/^Bearer /, '') ?? ''),
      this.url,
      r.query,
    );
    if ('refused' in caller) return caller.refused;
    const { claims } = caller;
    // an identity whose role is on a cluster alone sees nothing else: ARM answers 403 for any other scope
    const scopedTo = this.clusters.filter(
      (c) => c.roleScope === 'cluster' && [...c.users, ...c.admins].includes(String(claims.appid)),
    );
    const sees = (c: FakeCluster) =>
      c.subscriptionId === subscription &&
      c.resourceGroup.toLowerCase() === group.toLowerCase() &&
      c.name.toLowerCase() === name.toLowerCase();
    if (scopedTo.length > 0 && !scopedTo.some(sees))
      return armError(
        403,
        'AuthorizationFailed',
        `The client '${String(claims.appid)}' with object id '${String(claims.oid)}' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/${action === 'read' ? 'read' : `${action}/action`}' over scope '${action === 'read' ? r.path : r.path.replace(/\/[^/]+$/, '')}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    const inSubscription = this.clusters.filter((c) => c.subscriptionId === subscription);
    if (inSubscription.length === 0)
      return armError(404, 'SubscriptionNotFound', `The subscription '${subscription}' could not be found.`);
    if (!inSubscription.some((c) => c.resourceGroup.toLowerCase() === group.toLowerCase()))
      return armError(404, 'ResourceGroupNotFound', `Resource group '${group}' could not be found.`);
    const cluster = inSubscription.find(
      (c) =>
        c.resourceGroup.toLowerCase() === group.toLowerCase() && c.name.toLowerCase() === name.toLowerCase(),
    );
    if (!cluster)
      return armError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    const admin = action === 'listClusterAdminCredential';
    const read = action === 'read';
    if (
      !(admin ? cluster.admins : cluster.users).includes(String(claims.appid)) &&
      !this.holdsClusterRole(String(claims.oid), read ? r.path : r.path.replace(/\/[^/]+$/, ''), admin)
    )
      return armError(
        403,
        'AuthorizationFailed',
        `The client '${String(claims.appid)}' with object id '${String(claims.oid)}' does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/${read ? 'read' : `${action}/action`}' over scope '${read ? r.path : r.path.replace(/\/[^/]+$/, '')}' or the scope is invalid.`,
      );
    // the body of examples/ManagedClustersGet.json (aks/stable/2024-09-01), trimmed, with this cluster's
    // network profile: networkPolicy absent unless set, as the example's (kubenet) cluster has none
    if (read)
      return {
        status: 200,
        json: {
          id: r.path,
          location: 'location1',
          name: cluster.name,
          type: 'Microsoft.ContainerService/ManagedClusters',
          properties: {
            provisioningState: 'Succeeded',
            kubernetesVersion: '1.34.4',
            currentKubernetesVersion: '1.34.4',
            dnsPrefix: 'dnsprefix1',
            fqdn: 'dnsprefix1-abcd1234.hcp.eastus.azmk8s.io',
            enableRBAC: true,
            ...cluster.properties,
            // identityProfile, as ManagedClusterProperties defines it (managedClusters.json, aks/stable/
            // 2024-09-01: "The only accepted key is \"kubeletidentity\"", a UserAssignedIdentity with
            // resourceId, clientId, objectId); ManagedClustersGet.json's own cluster has a service principal
            ...(cluster.kubeletObjectId === undefined
              ? {}
              : {
                  identityProfile: {
                    kubeletidentity: {
                      resourceId: `/subscriptions/${cluster.subscriptionId}/resourcegroups/MC_${cluster.resourceGroup}_${cluster.name}_location1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${cluster.name}-agentpool`,
                      clientId: '8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d',
                      objectId: cluster.kubeletObjectId,
                    },
                  },
                }),
            networkProfile: {
              networkPlugin: cluster.networkPlugin ?? 'azure',
              ...(cluster.networkPolicy === undefined ? {} : { networkPolicy: cluster.networkPolicy }),
              ...(cluster.networkDataplane === undefined
                ? {}
                : { networkDataplane: cluster.networkDataplane }),
              serviceCidr: '10.0.0.0/16',
              dnsServiceIP: '10.0.0.10',
              loadBalancerSku: 'standard',
              outboundType: 'loadBalancer',
            },
          },
        },
      };
    const kubeconfig = admin
      ? cluster.kubeconfigs.clusterAdmin
      : r.query['server-fqdn'] === 'public'
        ? (cluster.kubeconfigs.clusterUserPublic ?? cluster.kubeconfigs.clusterUser)
        : cluster.kubeconfigs.clusterUser;
    if (!kubeconfig)
      return armError(
        400,
        'BadRequest',
        'Getting static credential is not allowed because this cluster is set to disable local accounts.',
      );
    return {
      status: 200,
      json: {
        kubeconfigs: [
          { name: admin ? 'clusterAdmin' : 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') },
        ],
      },
    };
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const body = reply.json === undefined ? '' : JSON.stringify(reply.json);
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  res.end(body);
}

/** A one-day certificate for 127.0.0.1, made with the openssl CLI (node:crypto cannot issue X.509). */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-azure-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        // DNS:localhost too: through a proxy, the Azure SDK's agent (https-proxy-agent) checks an IP host's
        // certificate against 'localhost' (real Entra and ARM hosts are names, which it checks as they are)
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
