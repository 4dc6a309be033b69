import { githubIssuer, planCredentials, wantedCredentials } from '../../src/setup/federation-plan.js';
import { oidcSubject } from '../../src/setup/subjects.js';

const repo = 'team/archetype';
const audience = 'api://AzureADTokenExchange';

describe('oidcSubject', () => {
  it('builds the default subject for each context', () => {
    const template = { use_default: true };
    expect(oidcSubject(template, repo, { kind: 'environment', name: 'production' })).toBe(
      'repo:team/archetype:environment:production',
    );
    expect(oidcSubject(template, repo, { kind: 'pull_request' })).toBe('repo:team/archetype:pull_request');
    expect(oidcSubject(template, repo, { kind: 'ref', ref: 'refs/heads/master' })).toBe(
      'repo:team/archetype:ref:refs/heads/master',
    );
  });

  it('ignores include_claim_keys when use_default is true', () => {
    const template = { use_default: true, include_claim_keys: ['repository_owner_id'] };
    expect(oidcSubject(template, repo, { kind: 'pull_request' })).toBe('repo:team/archetype:pull_request');
  });

  it('follows a custom template with use_default false, claims in its order', () => {
    const template = {
      use_default: false,
      include_claim_keys: ['repository_owner_id', 'context', 'job_workflow_ref'],
    };
    const subject = oidcSubject(
      template,
      repo,
      { kind: 'environment', name: 'production' },
      {
        repository_owner_id: '42',
        job_workflow_ref: 'team/archetype/.github/workflows/deploy.yml@refs/heads/main',
      },
    );
    expect(subject).toBe(
      'repository_owner_id:42:environment:production:job_workflow_ref:team/archetype/.github/workflows/deploy.yml@refs/heads/main',
    );
    expect(
      oidcSubject({ use_default: false, include_claim_keys: ['repo', 'context'] }, repo, {
        kind: 'pull_request',
      }),
    ).toBe('repo:team/archetype:pull_request');
  });

  it('names a claim whose value it cannot know', () => {
    expect(() =>
      oidcSubject({ use_default: false, include_claim_keys: ['repo', 'actor'] }, repo, {
        kind: 'pull_request',
      }),
    ).toThrow(/claim 'actor'.*PUT \/repos\/team\/archetype\/actions\/oidc\/customization\/sub/);
  });
});

describe('planCredentials', () => {
  const wanted = wantedCredentials({
    repository: repo,
    defaultBranch: 'master',
    template: { use_default: true },
    audience,
  });

  it('wants production on its environment, preview on pull requests and the real default branch', () => {
    expect(wanted.map((w) => [w.identity, w.subject, w.issuer, w.audiences])).toEqual([
      ['production', 'repo:team/archetype:environment:production', githubIssuer, [audience]],
      ['preview', 'repo:team/archetype:pull_request', githubIssuer, [audience]],
      ['preview', 'repo:team/archetype:ref:refs/heads/master', githubIssuer, [audience]],
    ]);
  });

  it('plans every credential on empty identities and nothing once they exist', () => {
    const planned = planCredentials(wanted, { production: [], preview: [] });
    expect(planned).toHaveLength(3);
    const existing = { production: [] as typeof wanted, preview: [] as typeof wanted };
    for (const change of planned)
      existing[change.identity].push({ ...change.credential, identity: change.identity });
    expect(planCredentials(wanted, existing)).toEqual([]);
  });

  it('reuses a credential with another name but the same subject', () => {
    const planned = planCredentials(wanted, {
      production: [
        {
          name: 'by-hand',
          issuer: githubIssuer,
          subject: 'repo:team/archetype:environment:production',
          audiences: [audience],
        },
      ],
      preview: [],
    });
    expect(planned.map((c) => c.identity)).toEqual(['preview', 'preview']);
  });

  it('refuses a same-subject credential with another audience, naming it', () => {
    expect(() =>
      planCredentials(wanted, {
        production: [
          {
            name: 'by-hand',
            issuer: githubIssuer,
            subject: 'repo:team/archetype:environment:production',
            audiences: ['api://other'],
          },
        ],
        preview: [],
      }),
    ).toThrow(/'by-hand'.*api:\/\/other/);
  });

  it('uses the US Gov audience it is given', () => {
    const gov = wantedCredentials({
      repository: repo,
      defaultBranch: 'main',
      template: { use_default: true },
      audience: 'api://AzureADTokenExchangeUSGov',
    });
    expect(gov.every((w) => w.audiences[0] === 'api://AzureADTokenExchangeUSGov')).toBe(true);
  });
});

describe('planCredentials names', () => {
  it('takes a free name when another subject holds the wanted one, never overwriting it', () => {
    const wanted = wantedCredentials({
      repository: repo,
      defaultBranch: 'main',
      template: { use_default: true },
      audience,
    });
    const other = { issuer: githubIssuer, subject: 'repo:team/other:pull_request', audiences: [audience] };
    const planned = planCredentials(wanted, {
      production: [],
      preview: [
        { ...other, name: 'github-pull-request' },
        { ...other, name: 'github-pull-request-2', subject: 'repo:team/x:pull_request' },
      ],
    });
    expect(planned.filter((c) => c.identity === 'preview').map((c) => c.credential.name)).toEqual([
      'github-pull-request-3',
      'github-default-branch',
    ]);
  });
});
