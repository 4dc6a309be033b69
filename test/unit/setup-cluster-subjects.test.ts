import { readdirSync, readFileSync } from 'node:fs';
import { rbacVariables } from '../../src/setup/cluster/rbac-files.js';
import { compareSubjects, type HeldCredential, workflowJobs } from '../../src/setup/cluster/subject-check.js';
import { githubIssuer, wantedCredentials } from '../../src/setup/federation-plan.js';

const audience = 'api://AzureADTokenExchange';
const base = {
  subjectRepository: 'team/archetype',
  repository: 'team/archetype',
  defaultBranch: 'main',
  audience,
};
const held = (template: { use_default: boolean; include_claim_keys?: string[] }) => {
  const wanted = wantedCredentials({
    repository: 'team/archetype',
    defaultBranch: 'main',
    template,
    audience,
  });
  return {
    production: wanted.filter((c) => c.identity === 'production') as HeldCredential[],
    preview: wanted.filter((c) => c.identity === 'preview') as HeldCredential[],
  };
};

describe('compareSubjects', () => {
  it("finds every workflow's run trusted by its own identity under the default template", () => {
    const rows = compareSubjects({ ...base, template: { use_default: true } }, held({ use_default: true }));
    expect(rows.filter((r) => !r.ok)).toEqual([]);
    expect(rows).toHaveLength(workflowJobs.length + 2);
  });

  it('names AADSTS700213 and the subject to add when a credential is missing', () => {
    const credentials = held({ use_default: true });
    credentials.preview = credentials.preview.filter((c) => c.name !== 'github-pull-request');
    const rows = compareSubjects({ ...base, template: { use_default: true } }, credentials);
    expect(rows.filter((r) => !r.ok).map((r) => r.detail)).toEqual([
      `no credential trusts subject repo:team/archetype:pull_request; the run would fail with AADSTS700213: add a federated credential with issuer ${githubIssuer}, this subject and audience ${audience}`,
    ]);
  });

  it("a template with job_workflow_ref: a pull request's subject varies, which no exact subject matches", () => {
    const template = { use_default: false, include_claim_keys: ['repo', 'context', 'job_workflow_ref'] };
    const rows = compareSubjects({ ...base, template }, held({ use_default: true }));
    const preview = rows.find((r) => r.check.startsWith('signs in from preview.yml'));
    expect(preview?.ok).toBe(false);
    expect(preview?.detail).toMatch(/preview\.yml@refs\/pull\/<n>\/merge.*no exact subject matches/);
  });

  it("flags a credential of one identity that another identity's workflow presents", () => {
    const credentials = held({ use_default: true });
    credentials.production.push({
      name: 'too-wide',
      issuer: githubIssuer,
      subject: 'repo:team/archetype:pull_request',
      audiences: [audience],
    });
    const rows = compareSubjects({ ...base, template: { use_default: true } }, credentials);
    expect(rows.filter((r) => !r.ok)).toEqual([
      {
        identity: 'production',
        check: 'trusts only its own workflows',
        ok: false,
        detail:
          "too-wide trusts preview.yml's subject (pull_request): those runs could sign in as production: delete it",
      },
    ]);
  });

  it('knows every workflow of the repository that signs in to Azure', () => {
    const dir = new URL('../../.github/workflows/', import.meta.url);
    const signingIn = readdirSync(dir).filter((f) =>
      /azure-client-id:/.test(readFileSync(new URL(f, dir), 'utf8')),
    );
    expect([...new Set(workflowJobs.map((j) => j.workflow))].sort()).toEqual(signingIn.sort());
  });
});

describe('rbacVariables', () => {
  const input = {
    app: 'archetype',
    namespace: 'archetype',
    productionPrincipal: '11111111-1111-1111-1111-111111111111',
    previewPrincipal: '22222222-2222-2222-2222-222222222222',
    previewDomain: 'preview.example.com',
    ingressNamespace: 'app-routing-system',
  };

  it("refuses a value that could end a policy's CEL string, naming the variable", () => {
    expect(() => rbacVariables({ ...input, previewDomain: "x.com' || true || '" })).toThrow(
      /rbac\/ variable PREVIEW_DOMAIN is 'x\.com' \|\| true \|\| '': .* must be a DNS name/,
    );
  });

  it('refuses one identity for both, which would let previews deploy as production', () => {
    expect(() => rbacVariables({ ...input, previewPrincipal: input.productionPrincipal })).toThrow(
      /previews would deploy as production/,
    );
  });
});
