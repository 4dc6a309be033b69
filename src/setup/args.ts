// `archetype-deploy setup --subscription ID --resource-group RG --registry NAME --cluster RG/NAME
//  --repository owner/name [--image-name NAME] [--location L] [--cloud C] [--switch-registry-to-abac]
//  [--teardown] [--yes]` → typed options; every mistake names the flag and the fix.
import { type AzureCloud, azureCloudNames } from '../azure/cloud.js';

export interface SetupOptions {
  subscriptionId: string;
  resourceGroup: string;
  registry: string;
  cluster: { resourceGroup: string; name: string };
  repository: { owner: string; repo: string };
  /** the registry repository production pushes to (the action's image-name); previews push to <it>-preview */
  imageName: string;
  location?: string;
  /** the Azure cloud: its sign-in and ARM endpoints and the audience of GitHub's OIDC tokens */
  cloud: AzureCloud;
  /** remove what setup made (by its tag and its record) instead of setting up */
  teardown: boolean;
  /** switch a registry without ABAC to ABAC repository permissions, re-granting AcrPull/AcrPush holders first */
  switchRegistryToAbac: boolean;
  yes: boolean;
}

export const setupUsage =
  'usage: archetype-deploy setup --subscription ID --resource-group RG --registry NAME --cluster RG/NAME --repository owner/name [--image-name NAME] [--location L] [--cloud AzureCloud|AzureUSGovernment|AzureChinaCloud] [--switch-registry-to-abac] [--teardown] [--yes]';

const valued = [
  '--subscription',
  '--resource-group',
  '--registry',
  '--cluster',
  '--repository',
  '--image-name',
  '--location',
  '--cloud',
];
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const resourceGroupName = /^[-\w._()]{1,90}$/;
// an OCI repository name as ACR takes it: lower-case path components joined by '/'; no quote can reach the
// ABAC condition it is written into
const repositoryPath = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** The action's default image name (action.yml: image-name defaults to app-name, whose default is archetype). */
export const defaultImageName = 'archetype';

/** The options of `setup`, from argv after the program name (`['setup', '--subscription', ...]`). */
export function parseSetupArgs(argv: string[]): SetupOptions {
  const [command, ...rest] = argv;
  if (command !== 'setup') throw new Error(`unknown command '${command ?? ''}'; ${setupUsage}`);
  const values = new Map<string, string>();
  let yes = false;
  let teardown = false;
  let switchRegistryToAbac = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const [flag, inline]: [string, string | undefined] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--yes' && inline === undefined) yes = true;
    else if (flag === '--teardown' && inline === undefined) teardown = true;
    else if (flag === '--switch-registry-to-abac' && inline === undefined) switchRegistryToAbac = true;
    else if (valued.includes(flag)) {
      const value = inline ?? rest[++i];
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--')))
        throw new Error(`flag ${flag} needs a value; ${setupUsage}`);
      if (values.has(flag))
        throw new Error(`flag ${flag} is given twice ('${values.get(flag)}', '${value}')`);
      values.set(flag, value);
    } else throw new Error(`unknown flag '${arg}'; ${setupUsage}`);
  }
  const need = (flag: string) => {
    const value = values.get(flag);
    if (value === undefined) throw new Error(`flag ${flag} is missing; ${setupUsage}`);
    return value;
  };
  const subscriptionId = need('--subscription');
  if (!uuid.test(subscriptionId))
    throw new Error(
      `--subscription '${subscriptionId}' is not a subscription id (a GUID like 22222222-2222-2222-2222-222222222222)`,
    );
  const resourceGroup = need('--resource-group');
  if (!resourceGroupName.test(resourceGroup) || resourceGroup.endsWith('.'))
    throw new Error(
      `--resource-group '${resourceGroup}' is not a resource group name (1-90 letters, digits, - _ . ( ), not ending in .)`,
    );
  const registry = need('--registry');
  if (!/^[a-zA-Z0-9]{5,50}$/.test(registry))
    throw new Error(
      `--registry '${registry}' is not a registry name (5-50 letters and digits, without .azurecr.io)`,
    );
  const clusterValue = need('--cluster');
  const [clusterGroup, clusterName, ...extra] = clusterValue.split('/');
  if (!clusterGroup || !clusterName || extra.length > 0 || !resourceGroupName.test(clusterGroup))
    throw new Error(
      `--cluster '${clusterValue}' is not <resource group>/<cluster name>, like archetype-rg/archetype-aks`,
    );
  const repositoryValue = need('--repository');
  const [owner, repo, ...more] = repositoryValue.split('/');
  if (!owner || !repo || more.length > 0 || !/^[\w.-]+$/.test(owner) || !/^[\w.-]+$/.test(repo))
    throw new Error(`--repository '${repositoryValue}' is not owner/name, like team/archetype`);
  const imageName = values.get('--image-name') ?? defaultImageName;
  if (!repositoryPath.test(imageName) || imageName.length > 200)
    throw new Error(
      `--image-name '${imageName}' is not a registry repository name (lower-case letters, digits, '.', '_', '-' and '/', like archetype or team/archetype); give the action's image-name`,
    );
  const cloud = values.get('--cloud') ?? 'AzureCloud';
  if (!azureCloudNames.includes(cloud as AzureCloud))
    throw new Error(`--cloud '${cloud}' is not an Azure cloud; give one of ${azureCloudNames.join(', ')}`);
  return {
    subscriptionId,
    resourceGroup,
    registry,
    cluster: { resourceGroup: clusterGroup, name: clusterName },
    repository: { owner, repo },
    imageName,
    location: values.get('--location'),
    cloud: cloud as AzureCloud,
    teardown,
    switchRegistryToAbac,
    yes,
  };
}
