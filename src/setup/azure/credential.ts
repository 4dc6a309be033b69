// The signed-in user's Azure credential: DefaultAzureCredential (environment variables for a service
// principal, workload identity, managed identity, Azure CLI, Azure Developer CLI, Azure PowerShell), with the
// authority given rather than discovered, so that a sovereign or local authority is asked and no other.
// A failed sign-in says what was tried and how to sign in.
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { explained } from '../../azure/identity.js';
import { jwtClaims } from '../../azure/token.js';

export function setupCredential(authorityHost: string): TokenCredential {
  return explained(
    new DefaultAzureCredential({ authorityHost, disableInstanceDiscovery: true }),
    `DefaultAzureCredential at ${authorityHost} (environment, workload identity, managed identity, Azure CLI, Azure Developer CLI, Azure PowerShell)`,
    () =>
      "Sign in with 'az login' (or 'azd auth login'), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal.",
  );
}

/** The tenant of the signed-in account for ARM at `armEndpoint`: the `tid` of its token. */
export async function signedInTenant(credential: TokenCredential, armEndpoint: string): Promise<string> {
  const token = await credential.getToken(`${armEndpoint}/.default`);
  const tid = jwtClaims(token?.token ?? '').tid;
  if (typeof tid !== 'string' || !tid)
    throw new Error(
      `the Azure token for ${armEndpoint} names no tenant (claim tid); sign in to the subscription's tenant, e.g. az login --tenant <tenant id>`,
    );
  return tid;
}
