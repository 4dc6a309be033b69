// Where setup signs in and what it talks to: the cloud's endpoints (--cloud), each overridable from the
// environment for a private cloud or a local stand-in: AZURE_AUTHORITY_HOST (the variable @azure/identity
// itself reads), AZURE_RESOURCE_MANAGER_ENDPOINT (the action's input azure-resource-manager-endpoint), and
// GITHUB_API_URL (as on a runner, read by github/connect.ts). The GitHub token from GITHUB_TOKEN or GH_TOKEN.
import { type AzureCloud, azureClouds, httpsEndpoint } from '../azure/cloud.js';

export interface SetupEndpoints {
  authorityHost: string;
  armEndpoint: string;
  /** the audience GitHub's OIDC tokens carry for this cloud, which the federated credentials name */
  oidcAudience: string;
}

export function setupEndpoints(cloud: AzureCloud, env: NodeJS.ProcessEnv): SetupEndpoints {
  const known = azureClouds[cloud];
  return {
    authorityHost: endpoint(env, 'AZURE_AUTHORITY_HOST', known.authorityHost),
    armEndpoint: endpoint(env, 'AZURE_RESOURCE_MANAGER_ENDPOINT', known.armEndpoint),
    oidcAudience: known.oidcAudience,
  };
}

/** The GitHub token setup writes with: a repository admin's, from GITHUB_TOKEN or GH_TOKEN (gh's name). */
export function githubToken(env: NodeJS.ProcessEnv): string {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN;
  if (!token)
    throw new Error(
      'no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to the token of an admin of the repository, e.g. GITHUB_TOKEN=$(gh auth token)',
    );
  return token;
}

/** The variable's endpoint (see httpsEndpoint); the cloud's when unset. */
function endpoint(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  if (!value) return fallback;
  const url = httpsEndpoint(value);
  if (!url)
    throw new Error(`${name} '${value}' is not an https URL like ${fallback}; unset it to use --cloud's`);
  return url;
}
