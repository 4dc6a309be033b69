import type { TokenCredential } from '@azure/identity';
import { acrPushRoleFix } from '../util/acr-roles.js';
import { maskSecret } from '../util/secrets.js';
import { azurePost, quoteBody } from './http.js';
import { bearerToken, jwtClaims, principalOf } from './token.js';

/** Entra ID scope of Azure Container Registry's data plane. */
export const acrScope = 'https://containerregistry.azure.net/.default';
/** The user name that tells ACR the password is one of its refresh tokens (docker login). */
export { acrRefreshTokenUser } from '../util/acr-roles.js';

/**
 * Exchanges an Entra access token for an ACR refresh token (Azure/acr docs/AAD-OAuth.md, POST /oauth2/exchange),
 * for `docker login <registry> -u 00000000-0000-0000-0000-000000000000 --password-stdin`.
 * Both tokens are masked. `baseUrl` replaces https://<registryHost> (tests); `tenantId` defaults to the
 * token's tenant. The Entra token is for `scope` when given; else for the cloud's Azure Resource Manager
 * (`armEndpoint`: ACR accepts an ARM token in every cloud, as az acr login sends), with ACR's own audience
 * tried when the registry answers 401 to that; else for ACR's own audience.
 */
export async function acrRefreshToken(
  registryHost: string,
  credential: TokenCredential,
  options: { baseUrl?: string; tenantId?: string; scope?: string; armEndpoint?: string } = {},
): Promise<string> {
  const scopes = options.scope
    ? [options.scope]
    : options.armEndpoint
      ? [`${options.armEndpoint.replace(/\/+$/, '')}/.default`, acrScope]
      : [acrScope];
  for (const [i, scope] of scopes.entries()) {
    const last = i === scopes.length - 1;
    const token = await exchangeFor(registryHost, credential, scope, options, last);
    if (token) return token;
  }
  throw new Error(`ACR token exchange for ${registryHost}: no scope left to try`);
}

/** One exchange with a token for `scope`; undefined on a 401 when another scope is left to try. */
async function exchangeFor(
  registryHost: string,
  credential: TokenCredential,
  scope: string,
  options: { baseUrl?: string; tenantId?: string },
  last: boolean,
): Promise<string | undefined> {
  const accessToken = await bearerToken(credential, scope);
  const claims = jwtClaims(accessToken);
  const tenant = options.tenantId || (typeof claims.tid === 'string' ? claims.tid : '');
  if (!tenant)
    throw new Error(
      `ACR token exchange for ${registryHost}: the Entra token names no tenant; set input 'azure-tenant-id'`,
    );
  const url = `${(options.baseUrl ?? `https://${registryHost}`).replace(/\/+$/, '')}/oauth2/exchange`;
  const response = await azurePost(
    url,
    {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'access_token',
        service: registryHost,
        tenant,
        access_token: accessToken,
      }).toString(),
    },
    `ACR token exchange for ${registryHost}`,
  );
  const refreshToken = (response.json as { refresh_token?: unknown } | undefined)?.refresh_token;
  if (response.status === 200 && typeof refreshToken === 'string' && refreshToken) {
    maskSecret(refreshToken);
    return refreshToken;
  }

  if (response.status === 401 && !last) return undefined;
  const said = `ACR token exchange at ${url} answered HTTP ${response.status}: ${quoteBody(response)}`;
  const principal = principalOf(claims) ?? '<client id of the identity>';
  switch (response.status) {
    case 200: // not quoted: a 200 body may hold a credential under another name
      throw new Error(
        `ACR token exchange at ${url} answered HTTP 200 without a refresh_token; is ${registryHost} an Azure Container Registry?`,
      );
    case 401:
    case 403:
      // ACR exchanges any valid Entra token of its tenant, whatever roles the identity holds (AAD-OAuth.md): a
      // refusal here is about the token, its tenant or the registry's network rules first; the role last
      throw new Error(
        `${said}\nACR did not accept the Entra token of ${principal} (tenant ${tenant}): check that azure-tenant-id is the registry's tenant ` +
          `and that the registry's network rules let this runner in. To push, the identity also needs a role: ${acrPushRoleFix(principal, registryHost)}`,
      );
    case 404:
      throw new Error(
        `${said}\nIs ${registryHost} the login server of an Azure Container Registry (input 'registry')?`,
      );
    default:
      throw new Error(said);
  }
}
