// The Azure clouds the action knows, by the names az CLI and azure/login use. Tests pass their own endpoints
// to azureCredential() and aksKubeconfig() instead.

export interface AzureEndpoints {
  /** Microsoft Entra authority host, without a tenant. */
  authorityHost: string;
  /** Azure Resource Manager endpoint; also the audience of ARM tokens. */
  armEndpoint: string;
}

export interface AzureCloudFacts extends AzureEndpoints {
  /** the audience Entra ID expects in a federated (GitHub OIDC) token ("Workload identity federation") */
  oidcAudience: string;
  /** the suffix of the cloud's container registries' login servers */
  acrSuffix: string;
}

export const azureClouds = {
  AzureCloud: {
    authorityHost: 'https://login.microsoftonline.com',
    armEndpoint: 'https://management.azure.com',
    oidcAudience: 'api://AzureADTokenExchange',
    acrSuffix: '.azurecr.io',
  },
  AzureUSGovernment: {
    authorityHost: 'https://login.microsoftonline.us',
    armEndpoint: 'https://management.usgovcloudapi.net',
    oidcAudience: 'api://AzureADTokenExchangeUSGov',
    acrSuffix: '.azurecr.us',
  },
  AzureChinaCloud: {
    authorityHost: 'https://login.chinacloudapi.cn',
    armEndpoint: 'https://management.chinacloudapi.cn',
    oidcAudience: 'api://AzureADTokenExchangeChina',
    acrSuffix: '.azurecr.cn',
  },
} as const satisfies Record<string, AzureCloudFacts>;

export type AzureCloud = keyof typeof azureClouds;
export const azureCloudNames = Object.keys(azureClouds) as AzureCloud[];

/** An endpoint as given: an https URL without query or fragment, its trailing slashes dropped; else undefined. */
export function httpsEndpoint(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.search || url.hash) return undefined;
  return value.replace(/\/+$/, '');
}
