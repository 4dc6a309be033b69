import { parseSetupArgs } from '../../src/setup/args.js';

const sub = '22222222-2222-2222-2222-222222222222';
const base = [
  'setup',
  '--subscription',
  sub,
  '--resource-group',
  'rg',
  '--registry',
  'archetypeacr',
  '--cluster',
  'aks-rg/aks',
  '--repository',
  'team/archetype',
];

describe('parseSetupArgs', () => {
  it('types every flag, plan only by default', () => {
    expect(parseSetupArgs(base)).toEqual({
      subscriptionId: sub,
      resourceGroup: 'rg',
      registry: 'archetypeacr',
      cluster: { resourceGroup: 'aks-rg', name: 'aks' },
      repository: { owner: 'team', repo: 'archetype' },
      imageName: 'archetype',
      location: undefined,
      cloud: 'AzureCloud',
      teardown: false,
      switchRegistryToAbac: false,
      yes: false,
    });
  });

  it('takes --yes, --location and --flag=value', () => {
    const options = parseSetupArgs([...base, '--yes', '--location=westeurope']);
    expect(options.yes).toBe(true);
    expect(options.location).toBe('westeurope');
  });

  it('takes --teardown and --cloud', () => {
    const options = parseSetupArgs([...base, '--teardown', '--cloud', 'AzureUSGovernment', '--yes']);
    expect(options).toMatchObject({ teardown: true, cloud: 'AzureUSGovernment', yes: true });
  });

  it('takes --image-name and --switch-registry-to-abac', () => {
    const options = parseSetupArgs([...base, '--image-name', 'team/web', '--switch-registry-to-abac']);
    expect(options).toMatchObject({ imageName: 'team/web', switchRegistryToAbac: true });
  });

  it.each([
    [[...base, '--teardown=yes'], /unknown flag '--teardown=yes'/],
    [[...base, '--switch-registry-to-abac=1'], /unknown flag '--switch-registry-to-abac=1'/],
    [
      [...base, '--image-name', "web' OR 'x"],
      /--image-name 'web' OR 'x' is not a registry repository name .*give the action's image-name/,
    ],
    [[...base, '--image-name', 'Web'], /--image-name 'Web' is not a registry repository name/],
    [
      [...base, '--cloud', 'AzureGermanCloud'],
      /--cloud 'AzureGermanCloud' is not an Azure cloud; give one of AzureCloud, /,
    ],
    [['setup'], /flag --subscription is missing/],
    [['deploy'], /unknown command 'deploy'/],
    [[...base, '--force'], /unknown flag '--force'/],
    [[...base, '--location'], /flag --location needs a value/],
    [[...base, '--registry', 'other'], /flag --registry is given twice/],
    [
      ['setup', ...base.slice(1).map((a) => (a === sub ? 'nope' : a))],
      /--subscription 'nope' is not a subscription id/,
    ],
    [
      base.map((a) => (a === 'aks-rg/aks' ? 'aks' : a)),
      /--cluster 'aks' is not <resource group>\/<cluster name>/,
    ],
    [
      base.map((a) => (a === 'team/archetype' ? 'archetype' : a)),
      /--repository 'archetype' is not owner\/name/,
    ],
    [
      base.map((a) => (a === 'archetypeacr' ? 'x.azurecr.io' : a)),
      /--registry 'x.azurecr.io' is not a registry name/,
    ],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseSetupArgs(argv as string[])).toThrow(message as RegExp);
  });
});
