// `archetype-deploy setup --subscription ID --resource-group RG --registry NAME --cluster RG/NAME
//  --repository owner/name --preview-domain D [--app-host H] [--app A] [--namespace N] [--image-name NAME]
//  [--ingress-namespace N] [--gateway NS/NAME] [--location L] [--cloud C] [--reviewer R]...
//  [--switch-registry-to-abac] [--teardown] [--yes]` → typed options; every mistake names the flag and the
// fix. The app's flags are the action's inputs of the same names: the cluster's rbac/ objects are rendered
// from them, the registry's repository-scoped roles name the image, and the workflows read the domains.
import { type AzureCloud, azureCloudNames } from '../azure/cloud.js';
import { checkReviewers, parseReviewer, type ReviewerName } from './github/reviewers.js';

export interface SetupOptions {
  subscriptionId: string;
  resourceGroup: string;
  registry: string;
  cluster: { resourceGroup: string; name: string };
  repository: { owner: string; repo: string };
  /** the action's inputs the rbac/ objects are rendered with (defaults: the action's) */
  app: {
    name: string;
    namespace: string;
    ingressNamespace: string;
    gateway?: { namespace: string; name: string };
  };
  /** variable PREVIEW_DOMAIN: previews answer at pr-<n>.<domain> (needed but by --teardown) */
  previewDomain: string;
  /** variable APP_HOST: production's host name; unset, the variable is left as it is */
  appHost?: string;
  /** the registry repository production pushes to (the action's image-name, default the app's name); previews push to <it>-preview */
  imageName: string;
  location?: string;
  /** the Azure cloud: its sign-in and ARM endpoints and the audience of GitHub's OIDC tokens */
  cloud: AzureCloud;
  /** the production environment's required reviewers (--reviewer, repeatable); none: left as they are */
  reviewers: ReviewerName[];
  /** remove what setup made (by its tag and its record) instead of setting up */
  teardown: boolean;
  /** switch a registry without ABAC to ABAC repository permissions, re-granting AcrPull/AcrPush holders first */
  switchRegistryToAbac: boolean;
  yes: boolean;
}

export const setupUsage =
  'usage: archetype-deploy setup --subscription ID --resource-group RG --registry NAME --cluster RG/NAME --repository owner/name --preview-domain DOMAIN [--app-host HOST] [--app NAME] [--namespace NS] [--image-name NAME] [--ingress-namespace NS] [--gateway NS/NAME] [--location L] [--cloud AzureCloud|AzureUSGovernment|AzureChinaCloud] [--reviewer <login>|<org>/<team-slug>]... [--switch-registry-to-abac] [--teardown] [--yes]';

const valued = [
  '--subscription',
  '--resource-group',
  '--registry',
  '--cluster',
  '--repository',
  '--image-name',
  '--location',
  '--cloud',
  '--preview-domain',
  '--app-host',
  '--app',
  '--namespace',
  '--ingress-namespace',
  '--gateway',
];
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const resourceGroupName = /^[-\w._()]{1,90}$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsName = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
// an OCI repository name as ACR takes it: lower-case path components joined by '/'; no quote can reach the
// ABAC condition it is written into
const repositoryPath = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** The options of `setup`, from argv after the program name (`['setup', '--subscription', ...]`). */
export function parseSetupArgs(argv: string[]): SetupOptions {
  const [command, ...rest] = argv;
  if (command !== 'setup') throw new Error(`unknown command '${command ?? ''}'; ${setupUsage}`);
  const values = new Map<string, string>();
  let yes = false;
  let teardown = false;
  const reviewers: ReviewerName[] = [];
  let switchRegistryToAbac = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const [flag, inline]: [string, string | undefined] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--yes' && inline === undefined) yes = true;
    else if (flag === '--teardown' && inline === undefined) teardown = true;
    else if (flag === '--switch-registry-to-abac' && inline === undefined) switchRegistryToAbac = true;
    else if (flag === '--reviewer') {
      const value = inline ?? rest[++i];
      if (!value || (inline === undefined && value.startsWith('--')))
        throw new Error(`flag --reviewer needs a value, a user's login or <org>/<team-slug>; ${setupUsage}`);
      reviewers.push(parseReviewer(value));
    } else if (valued.includes(flag)) {
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
  checkReviewers(reviewers);
  const appPart = appOptions(values, need, teardown);
  // the action's default: image-name is app-name
  const imageName = values.get('--image-name') ?? appPart.app.name;
  if (!repositoryPath.test(imageName) || imageName.length > 200)
    throw new Error(
      `--image-name '${imageName}' is not a registry repository name (lower-case letters, digits, '.', '_', '-' and '/', like archetype or team/archetype); give the action's image-name`,
    );
  const cloud = values.get('--cloud') ?? 'AzureCloud';
  if (!azureCloudNames.includes(cloud as AzureCloud))
    throw new Error(`--cloud '${cloud}' is not an Azure cloud; give one of ${azureCloudNames.join(', ')}`);
  return {
    subscriptionId,
    ...appPart,
    resourceGroup,
    registry,
    cluster: { resourceGroup: clusterGroup, name: clusterName },
    repository: { owner, repo },
    imageName,
    location: values.get('--location'),
    cloud: cloud as AzureCloud,
    reviewers,
    teardown,
    switchRegistryToAbac,
    yes,
  };
}

/** The app's flags: names that land in rbac/'s objects and policies, so each is held to its shape here. */
function appOptions(
  values: Map<string, string>,
  need: (flag: string) => string,
  teardown: boolean,
): Pick<SetupOptions, 'app' | 'previewDomain' | 'appHost'> {
  const shaped = (flag: string, fallback: string | undefined, shape: RegExp, like: string) => {
    const value = values.get(flag) ?? fallback;
    if (value !== undefined && !shape.test(value)) throw new Error(`${flag} '${value}' is not ${like}`);
    return value;
  };
  const label = 'a DNS label (lower-case letters, digits and -, at most 63)';
  const name = shaped('--app', 'archetype', dnsLabel, label) ?? 'archetype';
  if (name.length > 50)
    throw new Error(
      `--app '${name}' is longer than 50 characters: its preview namespaces <app>-pr-<n> must stay DNS labels`,
    );
  const gatewayValue = values.get('--gateway');
  let gateway: SetupOptions['app']['gateway'];
  if (gatewayValue !== undefined) {
    const [namespace, gatewayName, ...extra] = gatewayValue.split('/');
    if (
      !namespace ||
      !gatewayName ||
      extra.length > 0 ||
      !dnsLabel.test(namespace) ||
      !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(gatewayName)
    )
      throw new Error(
        `--gateway '${gatewayValue}' is not <namespace>/<name> of a Gateway, like gateway-system/shared`,
      );
    gateway = { namespace, name: gatewayName };
  }
  // teardown finds setup's objects by their names, which no domain is part of
  const previewDomain = teardown
    ? (values.get('--preview-domain') ?? 'preview.invalid')
    : need('--preview-domain');
  if (!dnsName.test(previewDomain))
    throw new Error(
      `--preview-domain '${previewDomain}' is not a DNS name like preview.example.com (previews answer at pr-<n>.<domain>)`,
    );
  const appHost = shaped('--app-host', undefined, dnsName, 'a DNS name like archetype.example.com');
  return {
    app: {
      name,
      namespace: shaped('--namespace', 'archetype', dnsLabel, label) ?? 'archetype',
      ingressNamespace:
        shaped('--ingress-namespace', 'app-routing-system', dnsLabel, label) ?? 'app-routing-system',
      ...(gateway ? { gateway } : {}),
    },
    previewDomain,
    ...(appHost ? { appHost } : {}),
  };
}
