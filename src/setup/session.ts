// What every setup run holds: the ARM clients and the GitHub connection, both for the command line's
// subscription and repository, with the signed-in user's credentials, and where setup works in Azure.
import type { TokenCredential } from '@azure/identity';
import type { GitHub } from '../github/client.js';
import type { SetupOptions } from './args.js';
import { armClients, type SetupArm } from './azure/clients.js';
import { setupCredential } from './azure/credential.js';
import { identityNames } from './azure/ids.js';
import type { AzureTarget } from './azure/read-state.js';
import { githubToken, type SetupEndpoints, setupEndpoints } from './endpoints.js';
import { connectSetupGitHub } from './github/connect.js';

export interface SetupSession {
  options: SetupOptions;
  endpoints: SetupEndpoints;
  credential: TokenCredential;
  arm: SetupArm;
  gh: GitHub;
  target: AzureTarget;
}

export async function openSession(options: SetupOptions, env: NodeJS.ProcessEnv): Promise<SetupSession> {
  const endpoints = setupEndpoints(options.cloud, env);
  const token = githubToken(env);
  const credential = setupCredential(endpoints.authorityHost);
  const { owner, repo } = options.repository;
  return {
    options,
    endpoints,
    credential,
    arm: armClients(credential, options.subscriptionId, endpoints.armEndpoint),
    gh: await connectSetupGitHub(token, options.repository, {
      ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
    }),
    target: {
      subscriptionId: options.subscriptionId,
      resourceGroup: options.resourceGroup,
      registry: options.registry,
      cluster: options.cluster,
      repository: `${owner}/${repo}`,
      repositories: { production: options.imageName, preview: `${options.imageName}-preview` },
      switchToAbac: options.switchRegistryToAbac,
      identityNames: identityNames(repo),
    },
  };
}
