import { identityNames } from '../../src/setup/azure/ids.js';
import type { AzureState, AzureTarget } from '../../src/setup/azure/read-state.js';
import {
  blockers,
  pendingClientId,
  planWhole,
  renderWholePlan,
  wholePlanIsEmpty,
} from '../../src/setup/whole-plan.js';
import { githubState } from '../helpers/setup-github-state.js';

// The one plan of setup, pure: subjects from what GitHub said, variables from Azure's identities.

const sub = '22222222-2222-2222-2222-222222222222';
const target: AzureTarget = {
  subscriptionId: sub,
  resourceGroup: 'rg',
  registry: 'archetypeacr',
  cluster: { resourceGroup: 'rg-aks', name: 'aks' },
  repository: 'team/archetype',
  repositories: { production: 'archetype', preview: 'archetype-preview' },
  identityNames: identityNames('archetype'),
};
const registryId = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/archetypeacr`;
const clusterId = `/subscriptions/${sub}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks`;

const github = githubState;

const azure: AzureState = {
  identities: { production: undefined, preview: undefined },
  registry: { id: registryId, location: 'eastus', abac: false },
  cluster: {
    id: clusterId,
    location: 'eastus',
    facts: {
      aadProfile: { managed: true },
      disableLocalAccounts: true,
      networkProfile: { networkPolicy: 'azure' },
      ingressProfile: { webAppRouting: { enabled: true } },
    },
  },
  roleAssignments: [],
  kubeletAssignments: [],
  registryAssignments: [],
};

const input = (gh = github()) => ({
  target,
  tenantId: 't-1',
  audience: 'api://AzureADTokenExchangeUSGov',
  github: gh,
  azure,
  domains: { previewDomain: 'preview.example.com', appHost: 'archetype.example.com' },
});

describe('planWhole', () => {
  it("builds the preview's subjects from the real default branch and the repository as subjects name it", () => {
    const plan = planWhole(
      input(github({ defaultBranch: 'master', subjectRepository: 'team@1/archetype@2' })),
    );
    expect(
      plan.azure.credentials.map((c) => [c.identity, c.credential.subject, c.credential.audiences]),
    ).toEqual([
      ['production', 'repo:team@1/archetype@2:environment:production', ['api://AzureADTokenExchangeUSGov']],
      ['preview', 'repo:team@1/archetype@2:pull_request', ['api://AzureADTokenExchangeUSGov']],
      ['preview', 'repo:team@1/archetype@2:ref:refs/heads/master', ['api://AzureADTokenExchangeUSGov']],
    ]);
    expect(plan.github.changes).toContainEqual({
      kind: 'branch-policy',
      environment: 'production',
      branch: 'master',
    });
  });

  it('plans the client id variables as placeholders until the identities exist', () => {
    const plan = planWhole(input());
    const variables = plan.github.changes.flatMap((c) => (c.kind === 'variable' ? [c.variable] : []));
    expect(variables).toContainEqual({
      environment: 'production',
      name: 'AZURE_CLIENT_ID',
      value: pendingClientId('production'),
    });
    expect(variables).toContainEqual({ name: 'AKS_RESOURCE_GROUP', value: 'rg-aks' });
    expect(wholePlanIsEmpty(plan)).toBe(false);
  });

  it('plans no credential when the subject template is unknown, and refuses with the reason', () => {
    const plan = planWhole(input(github({ subjectTemplate: undefined })));
    expect(plan.azure.credentials).toEqual([]);
    expect(blockers(plan, [])).toEqual([
      expect.stringMatching(
        /follows organization team's OIDC subject template, which this token cannot read/,
      ),
    ]);
  });
});

describe('renderWholePlan', () => {
  it('lists the changes indented, counts them, then notes, findings and refusals', () => {
    const plan = planWhole(input(github({ workflowPermissions: undefined })));
    const lines = renderWholePlan(plan, ['on /x: missing Microsoft.Authorization/roleAssignments/write']);
    expect(lines[0]).toBe('  + managed identity rg/id-archetype-production (production)');
    expect(lines).toContain('  ~ "Allow GitHub Actions to create and approve pull requests" off');
    expect(lines).toContain('Plan: 20 to add, 1 to change, 0 to destroy.');
    expect(lines.at(-1)).toBe('refused: on /x: missing Microsoft.Authorization/roleAssignments/write');
    expect(lines).toContainEqual(expect.stringMatching(/^not done: registry .* is not in ABAC mode/));
  });

  it('says "nothing to change" when both sides hold what setup wants', () => {
    const empty = {
      azure: { identities: [], credentials: [], roles: [], refusals: [], findings: ['no policy engine'] },
      github: { ...planWhole(input()).github, changes: [] },
    };
    expect(renderWholePlan(empty, [])).toEqual([
      'nothing to change',
      expect.stringMatching(
        /^not done: production deploys run without an approval step: .*--reviewer <login>/,
      ),
      'cluster: no policy engine',
    ]);
  });
});
