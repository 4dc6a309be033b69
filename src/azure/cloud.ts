// The Azure clouds the action knows, by the names az CLI and azure/login use. Tests pass their own endpoints
// to azureCredential() and aksKubeconfig() instead.

export interface AzureEndpoints {
  /** Microsoft Entra authority host, without a tenant. */
  authorityHost: string;
  /** Azure Resource Manager endpoint; also the audience of ARM tokens. */
  armEndpoint: string;
}

export const azureClouds = {
  AzureCloud: {
    authorityHost: 'https://login.microsoftonline.com',
    armEndpoint: 'https://management.azure.com',
  },
  AzureUSGovernment: {
    authorityHost: 'https://login.microsoftonline.us',
    armEndpoint: 'https://management.usgovcloudapi.net',
  },
  AzureChinaCloud: {
    authorityHost: 'https://login.chinacloudapi.cn',
    armEndpoint: 'https://management.chinacloudapi.cn',
  },
} as const satisfies Record<string, AzureEndpoints>;

export type AzureCloud = keyof typeof azureClouds;
export const azureCloudNames = Object.keys(azureClouds) as AzureCloud[];
