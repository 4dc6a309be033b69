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
  '--preview-domain',
  'preview.example.com',
];

describe('parseSetupArgs', () => {
  it('types every flag, plan only by default', () => {
    expect(parseSetupArgs(base)).toEqual({
      subscriptionId: sub,
      resourceGroup: 'rg',
      registry: 'archetypeacr',
      cluster: { resourceGroup: 'aks-rg', name: 'aks' },
      repository: { owner: 'team', repo: 'archetype' },
      app: { name: 'archetype', namespace: 'archetype', ingressNamespace: 'app-routing-system' },
      previewDomain: 'preview.example.com',
      imageName: 'archetype',
      location: undefined,
      cloud: 'AzureCloud',
      reviewers: [],
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

  it("takes the app's flags, each held to the shape rbac/ needs", () => {
    const options = parseSetupArgs([
      ...base,
      '--app=shop',
      '--namespace',
      'shop-prod',
      '--app-host',
      'shop.example.com',
      '--gateway',
      'gateway-system/shared',
      '--ingress-namespace',
      'ingress',
    ]);
    expect(options).toMatchObject({
      app: {
        name: 'shop',
        namespace: 'shop-prod',
        ingressNamespace: 'ingress',
        gateway: { namespace: 'gateway-system', name: 'shared' },
      },
      appHost: 'shop.example.com',
    });
    expect(() => parseSetupArgs([...base, '--app', "x'y"])).toThrow(/--app 'x'y' is not a DNS label/);
    expect(() => parseSetupArgs(base.slice(0, -2))).toThrow(/flag --preview-domain is missing/);
    expect(() => parseSetupArgs([...base.slice(0, -1), "a.com' || true"])).toThrow(
      /--preview-domain 'a.com' \|\| true' is not a DNS name/,
    );
    expect(() => parseSetupArgs([...base, '--gateway', 'shared'])).toThrow(
      /--gateway 'shared' is not <namespace>\/<name>/,
    );
    // teardown finds setup's objects by name: no domain needed
    expect(parseSetupArgs([...base.slice(0, -2), '--teardown']).teardown).toBe(true);
  });

  it('takes --teardown and --cloud', () => {
    const options = parseSetupArgs([...base, '--teardown', '--cloud', 'AzureUSGovernment', '--yes']);
    expect(options).toMatchObject({ teardown: true, cloud: 'AzureUSGovernment', yes: true });
  });

  it('takes --reviewer again and again: users and <org>/<team-slug> teams', () => {
    const options = parseSetupArgs([...base, '--reviewer', 'alice', '--reviewer=team/deployers']);
    expect(options.reviewers).toEqual([
      { kind: 'user', value: 'alice', login: 'alice' },
      { kind: 'team', value: 'team/deployers', org: 'team', slug: 'deployers' },
    ]);
  });

  it('takes --image-name and --switch-registry-to-abac', () => {
    const options = parseSetupArgs([...base, '--image-name', 'team/web', '--switch-registry-to-abac']);
    expect(options).toMatchObject({ imageName: 'team/web', switchRegistryToAbac: true });
  });

  it.each([
    [[...base, '--reviewer'], /flag --reviewer needs a value, a user's login or <org>\/<team-slug>/],
    [[...base, '--reviewer', '--yes'], /flag --reviewer needs a value/],
    [
      [...base, '--reviewer', 'a/b/c'],
      /--reviewer 'a\/b\/c' is neither a user's login \(like octocat\) nor <organization>\/<team-slug>/,
    ],
    [[...base, '--reviewer', '-alice'], /--reviewer '-alice' is neither a user's login/],
    [[...base, '--reviewer', 'alice', '--reviewer', 'Alice'], /--reviewer 'Alice' is given twice/],
    [
      [...base, ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].flatMap((r) => ['--reviewer', r])],
      /--reviewer is given 7 times; GitHub takes at most 6 users or teams .*give a team instead of its members/,
    ],
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
