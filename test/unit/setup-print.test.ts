import { renderPlan, type SetupPlan } from '../../src/setup/print.js';

const empty: SetupPlan = {
  identities: [],
  credentials: [],
  roles: [],
  environments: [],
  variables: [],
  refusals: [],
  findings: [],
};

describe('renderPlan', () => {
  it('says nothing to change for an empty plan, still listing refusals and findings', () => {
    expect(
      renderPlan({ ...empty, refusals: ['no preview push'], findings: ['local accounts enabled'] }),
    ).toEqual(['nothing to change', 'not done: no preview push', 'cluster: local accounts enabled']);
  });

  it('prints one line per change, a changed variable with its old value', () => {
    const lines = renderPlan({
      ...empty,
      identities: [{ identity: 'production', name: 'archetype-production', resourceGroup: 'rg' }],
      credentials: [
        {
          identity: 'preview',
          credential: {
            name: 'github-pull-request',
            issuer: 'https://token.actions.githubusercontent.com',
            subject: 'repo:team/archetype:pull_request',
            audiences: ['api://AzureADTokenExchange'],
          },
        },
      ],
      environments: [{ name: 'production', branch: 'master' }],
      variables: [{ name: 'ACR_NAME', value: 'acr', current: 'old' }],
    });
    expect(lines).toEqual([
      '+ managed identity rg/archetype-production (production)',
      '+ federated credential github-pull-request on the preview identity: subject repo:team/archetype:pull_request, audience api://AzureADTokenExchange',
      '+ GitHub environment production, deployments from branch master only',
      '~ variable ACR_NAME on the repository = acr (was old)',
    ]);
  });
});
