import * as core from '@actions/core';
import {
  type AccessToken,
  ClientAssertionCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import { azureClouds } from './cloud.js';
import { jwtClaims } from './token.js';

/** The Azure inputs, as settings.azure holds them. */
export interface AzureInputs {
  clientId: string;
  tenantId: string;
  clientSecret: string;
}

/** The audience Entra ID expects in a GitHub OIDC token used as a federated credential (public cloud). */
export const githubOidcAudience = azureClouds.AzureCloud.oidcAudience;
const githubOidcIssuer = 'https://token.actions.githubusercontent.com';

/**
 * The credential every Azure call of the action uses, chosen from the inputs and the runner:
 * 1. GitHub Actions with an OIDC token (`permissions: id-token: write`) and azure-client-id + azure-tenant-id:
 *    workload identity federation, the job's OIDC token as the client assertion; no secret is stored.
 * 2. azure-client-secret: a client secret for azure-client-id in azure-tenant-id.
 * 3. Otherwise DefaultAzureCredential (environment variables, workload or managed identity of a self-hosted
 *    runner, an earlier `az login`), with azure-client-id as the managed identity's client id.
 * Errors name the inputs to set; token failures say which credential failed and what to check.
 */
export function azureCredential(
  azure: AzureInputs,
  options: { authorityHost?: string; oidcAudience?: string } = {},
): TokenCredential {
  const audience = options.oidcAudience ?? githubOidcAudience;
  const { clientId, tenantId, clientSecret } = azure;
  const authorityHost = (options.authorityHost ?? azureClouds.AzureCloud.authorityHost).replace(/\/+$/, '');
  // The authority is ours to give: without this, MSAL would ask login.microsoftonline.com which cloud an
  // authority outside its built-in list (a sovereign, private or test one) belongs to.
  const common = { authorityHost, disableInstanceDiscovery: true };
  const onGitHub = process.env.GITHUB_ACTIONS === 'true';
  const oidcAvailable = onGitHub && Boolean(process.env.ACTIONS_ID_TOKEN_REQUEST_URL);

  if (oidcAvailable && clientId) {
    if (!tenantId)
      throw new Error(
        "input 'azure-tenant-id' is required with 'azure-client-id' for workload identity federation (the Entra ID tenant of the app registration or managed identity)",
      );
    if (clientSecret)
      core.warning(
        'azure-client-secret is ignored: this job has an OIDC token, so the action signs in with workload identity federation; remove the secret from the workflow',
      );
    let subject = '';
    const credential = new ClientAssertionCredential(
      tenantId,
      clientId,
      async () => {
        const token = await core.getIDToken(audience);
        subject = String(jwtClaims(token).sub ?? '');
        return token;
      },
      common,
    );
    core.info(
      `Azure sign-in: workload identity federation (GitHub OIDC) as ${clientId} in tenant ${tenantId}`,
    );
    return explained(
      credential,
      `workload identity federation as ${clientId} (inputs azure-client-id, azure-tenant-id)`,
      () =>
        subject
          ? `Check that ${clientId} has a federated credential with issuer ${githubOidcIssuer}, subject '${subject}' and audience ${audience}, in tenant ${tenantId}.`
          : `The job's OIDC token could not be had: check the job has 'permissions: id-token: write'.`,
    );
  }

  if (clientSecret) {
    const missing = [!clientId && 'azure-client-id', !tenantId && 'azure-tenant-id'].filter(Boolean);
    if (missing.length > 0)
      throw new Error(
        `input 'azure-client-secret' is set but ${missing.map((name) => `'${name}'`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not: a client secret needs the app registration's client id and its tenant`,
      );
    core.info(`Azure sign-in: client secret of ${clientId} in tenant ${tenantId}`);
    return explained(
      new ClientSecretCredential(tenantId, clientId, clientSecret, common),
      `the client secret of ${clientId} (inputs azure-client-id, azure-tenant-id, azure-client-secret)`,
      () =>
        `Check that azure-client-secret is a current (unexpired) secret of app registration ${clientId} in tenant ${tenantId}; on GitHub prefer workload identity federation.`,
    );
  }

  if (onGitHub && process.env.RUNNER_ENVIRONMENT === 'github-hosted' && clientId)
    throw new Error(
      "inputs 'azure-client-id' and 'azure-tenant-id' are set but this job has no OIDC token for workload identity federation: add 'permissions: id-token: write' to the job (or set 'azure-client-secret')",
    );

  core.info(
    `Azure sign-in: DefaultAzureCredential (environment, workload identity, managed identity${clientId ? ` ${clientId}` : ''}, Azure CLI)`,
  );
  return explained(
    new DefaultAzureCredential({
      ...common,
      ...(tenantId ? { tenantId } : {}),
      ...(clientId ? { managedIdentityClientId: clientId, workloadIdentityClientId: clientId } : {}),
    }),
    'DefaultAzureCredential',
    () =>
      "No Azure credential was found on this runner. On GitHub set inputs 'azure-client-id' and 'azure-tenant-id' and give the job 'permissions: id-token: write' (workload identity federation); elsewhere set 'azure-client-secret' too, or run on a host with a managed identity.",
  );
}

/**
 * Why this run cannot sign in to Azure by workload identity federation, when federation is its only way:
 * GitHub gives no OIDC token to a bot's or a fork's pull request (or to a job without 'id-token: write'),
 * and a GitHub-hosted runner has no other identity. Undefined when it can sign in (or uses another way).
 */
export async function federationUnavailable(
  azure: AzureInputs,
  audience: string = githubOidcAudience,
): Promise<string | undefined> {
  if (process.env.GITHUB_ACTIONS !== 'true' || !azure.clientId || azure.clientSecret) return undefined;
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    if (process.env.RUNNER_ENVIRONMENT !== 'github-hosted') return undefined; // a managed identity may serve
    return "GitHub gave this run no OIDC token (as for pull requests from bots and forks, or a job without 'permissions: id-token: write'), and a GitHub-hosted runner has no other Azure identity";
  }
  try {
    await core.getIDToken(audience);
    return undefined;
  } catch (error) {
    return `GitHub refused this run an OIDC token for audience ${audience} (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Wraps a credential so that a failed token request says which credential failed and what to check. */
export function explained(credential: TokenCredential, name: string, hint: () => string): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `Azure sign-in with ${name} failed for scope ${[scopes].flat().join(' ')}: ${message}\n${hint()}`,
          { cause: error },
        );
      }
    },
  };
}
