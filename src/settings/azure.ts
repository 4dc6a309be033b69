import {
  type AzureCloud,
  type AzureEndpoints,
  azureCloudNames,
  azureClouds,
  httpsEndpoint,
} from '../azure/cloud.js';
import { maskSecret } from '../util/secrets.js';
import type { Inputs } from './inputs.js';
import type { RegistryTarget } from './registry.js';

export interface AzureSettings {
  clientId: string;
  tenantId: string;
  clientSecret: string;
  cloud: AzureCloud;
  /** azure-cloud's endpoints, or the inputs that override them */
  endpoints: AzureEndpoints;
  /** audience of the GitHub OIDC token for workload identity federation (input, or the cloud's) */
  oidcAudience: string;
}

/** The Azure identity and cloud; an ACR of another cloud than azure-cloud is named with the fix. */
export function readAzure(inputs: Inputs, registry: RegistryTarget): AzureSettings {
  const cloud = inputs.oneOf('azure-cloud', azureCloudNames);
  const known = azureClouds[cloud] ?? azureClouds.AzureCloud;
  const azure: AzureSettings = {
    clientId: inputs.text('azure-client-id'),
    tenantId: inputs.text('azure-tenant-id'),
    clientSecret: inputs.raw('azure-client-secret'),
    cloud,
    endpoints: {
      authorityHost: endpoint(inputs, 'azure-authority-host', known.authorityHost),
      armEndpoint: endpoint(inputs, 'azure-resource-manager-endpoint', known.armEndpoint),
    },
    oidcAudience: inputs.text('azure-oidc-audience') || known.oidcAudience,
  };
  if (registry.kind === 'acr') {
    const cloudOfRegistry = azureCloudNames.find((name) =>
      registry.host.endsWith(azureClouds[name].acrSuffix),
    );
    if (cloudOfRegistry && cloudOfRegistry !== cloud)
      inputs.fail(
        'registry',
        `'${registry.host}' is a registry of ${cloudOfRegistry} (${azureClouds[cloudOfRegistry].acrSuffix}) but input 'azure-cloud' is ${cloud}; set azure-cloud to ${cloudOfRegistry}`,
      );
  }
  if (azure.clientSecret) maskSecret(azure.clientSecret);
  return azure;
}

/** An endpoint input: an https URL without query or fragment, its trailing slashes dropped; else the cloud's. */
function endpoint(inputs: Inputs, name: string, fallback: string): string {
  const value = inputs.text(name);
  if (!value) return fallback;
  const url = httpsEndpoint(value);
  if (!url) inputs.fail(name, `'${value}' is not an https URL like https://login.microsoftonline.com`);
  return url ?? value;
}
