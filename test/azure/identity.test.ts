// azureCredential against a local Entra ID stand-in (test/fakes/azure-server.ts) that follows
// "Microsoft identity platform and the OAuth 2.0 client credentials flow" (POST /{tenant}/oauth2/v2.0/token,
// with client_secret or with a client_assertion for workload identity federation), the OpenID Connect
// discovery document MSAL reads first, and GitHub's OIDC token request (ACTIONS_ID_TOKEN_REQUEST_URL).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azureCredential } from '../../src/azure/identity.js';
import { jwtClaims } from '../../src/azure/token.js';
import { FakeAzure, githubIssuer } from '../fakes/azure-server.js';
import { bareRunner, captureStdout, setEnv } from '../fakes/runner-env.js';

const scope = 'https://containerregistry.azure.net/.default';
const federatedApp = '11111111-1111-1111-1111-111111111111';
const secretApp = '22222222-2222-2222-2222-222222222222';
const secret = 'app-secret-value';

let fake: FakeAzure;
let tenantId: string;
let restoreEnv: () => void;
let stdout: ReturnType<typeof captureStdout>;

beforeAll(async () => {
  fake = await FakeAzure.start();
  tenantId = fake.tenantId;
  fake.apps.set(federatedApp, { federatedSubjects: [fake.github.subject] });
  fake.apps.set(secretApp, { secret });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  restoreEnv = setEnv(bareRunner);
  stdout = captureStdout();
});
afterEach(() => {
  stdout.restore();
  restoreEnv();
});

const githubJob = () =>
  setEnv({
    GITHUB_ACTIONS: 'true',
    RUNNER_ENVIRONMENT: 'github-hosted',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${fake.url}/github/idtoken?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: fake.github.requestToken,
  });

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected an error');
}

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected a rejection');
}

describe('azureCredential', () => {
  it("on GitHub with an OIDC token, federates the job's token as the client assertion", async () => {
    githubJob();
    const credential = azureCredential(
      { clientId: federatedApp, tenantId, clientSecret: '' },
      { authorityHost: fake.url },
    );
    const token = await credential.getToken(scope);

    expect(jwtClaims(token?.token ?? '')).toMatchObject({
      aud: 'https://containerregistry.azure.net',
      tid: tenantId,
      appid: federatedApp,
    });
    const [oidc] = fake.requestsTo('GET', '/github/idtoken');
    expect(oidc?.query).toEqual({ 'api-version': '2.0', audience: 'api://AzureADTokenExchange' });
    expect(oidc?.headers.authorization).toBe(`Bearer ${fake.github.requestToken}`);
    const [tokenRequest] = fake.requestsTo('POST', `/${tenantId}/oauth2/v2.0/token`);
    expect(tokenRequest?.form).toMatchObject({
      grant_type: 'client_credentials',
      client_id: federatedApp,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    expect(tokenRequest?.form.scope?.split(' ')).toContain(scope);
    expect(jwtClaims(tokenRequest?.form.client_assertion ?? '')).toMatchObject({
      iss: githubIssuer,
      aud: 'api://AzureADTokenExchange',
      sub: fake.github.subject,
    });
    expect(tokenRequest?.form.client_secret).toBeUndefined();
    expect(stdout.masked()).toContain(tokenRequest?.form.client_assertion);
  });

  it("asks GitHub for the sovereign cloud's audience, which its federated credentials name", async () => {
    githubJob();
    fake.github.audience = 'api://AzureADTokenExchangeUSGov';
    try {
      const credential = azureCredential(
        { clientId: federatedApp, tenantId, clientSecret: '' },
        { authorityHost: fake.url, oidcAudience: 'api://AzureADTokenExchangeUSGov' },
      );
      expect((await credential.getToken(scope))?.token).toBeTruthy();
      expect(fake.requestsTo('GET', '/github/idtoken').at(-1)?.query.audience).toBe(
        'api://AzureADTokenExchangeUSGov',
      );
    } finally {
      fake.github.audience = 'api://AzureADTokenExchange';
    }
  });

  it('names the subject a federated credential must match when Entra ID refuses the OIDC token', async () => {
    githubJob();
    fake.github.subject = 'repo:team/archetype:pull_request';
    try {
      const credential = azureCredential(
        { clientId: federatedApp, tenantId, clientSecret: '' },
        { authorityHost: fake.url },
      );
      const message = await rejectionOf(credential.getToken(scope));
      expect(message).toContain('AADSTS70021');
      expect(message).toContain(
        `${federatedApp} has a federated credential with issuer https://token.actions.githubusercontent.com, subject 'repo:team/archetype:pull_request' and audience api://AzureADTokenExchange`,
      );
    } finally {
      fake.github.subject = 'repo:team/archetype:ref:refs/heads/main';
    }
  });

  it('uses a client secret when no OIDC token is available', async () => {
    const credential = azureCredential(
      { clientId: secretApp, tenantId, clientSecret: secret },
      { authorityHost: fake.url },
    );
    const token = await credential.getToken(scope);

    expect(jwtClaims(token?.token ?? '')).toMatchObject({ appid: secretApp, tid: tenantId });
    const [tokenRequest] = fake.requestsTo('POST', `/${tenantId}/oauth2/v2.0/token`);
    expect(tokenRequest?.form).toMatchObject({
      grant_type: 'client_credentials',
      client_id: secretApp,
      client_secret: secret,
    });
    // MSAL read the authority's OpenID configuration from the given host, and asked nobody else
    expect(fake.requestsTo('GET', `/${tenantId}/v2.0/.well-known/openid-configuration`)).toHaveLength(1);
  });

  it('says which inputs to check when the client secret is refused', async () => {
    const credential = azureCredential(
      { clientId: secretApp, tenantId, clientSecret: 'expired-secret' },
      { authorityHost: fake.url },
    );
    const message = await rejectionOf(credential.getToken(scope));
    expect(message).toContain('AADSTS7000215');
    expect(message).toContain('inputs azure-client-id, azure-tenant-id, azure-client-secret');
    expect(message).toContain(`current (unexpired) secret of app registration ${secretApp}`);
  });

  it('falls back to DefaultAzureCredential: workload identity of a self-hosted runner in Kubernetes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wi-'));
    try {
      const saToken = fake.issue({
        iss: githubIssuer,
        aud: 'api://AzureADTokenExchange',
        sub: 'system:serviceaccount:ci:runner',
      });
      writeFileSync(join(dir, 'token'), saToken);
      fake.apps.set('33333333-3333-3333-3333-333333333333', {
        federatedSubjects: ['system:serviceaccount:ci:runner'],
      });
      // only the workload identity link of the chain, so that no test ever probes a managed identity endpoint
      setEnv({
        AZURE_TOKEN_CREDENTIALS: 'WorkloadIdentityCredential',
        AZURE_FEDERATED_TOKEN_FILE: join(dir, 'token'),
      });
      const credential = azureCredential(
        { clientId: '33333333-3333-3333-3333-333333333333', tenantId, clientSecret: '' },
        { authorityHost: fake.url },
      );
      const token = await credential.getToken(scope);
      expect(jwtClaims(token?.token ?? '')).toMatchObject({ appid: '33333333-3333-3333-3333-333333333333' });
      const [tokenRequest] = fake.requestsTo('POST', `/${tenantId}/oauth2/v2.0/token`);
      expect(tokenRequest?.form.client_assertion).toBe(saToken);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is DefaultAzureCredential-backed and names the inputs when nothing is configured', async () => {
    setEnv({ AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential' });
    const credential = azureCredential({ clientId: '', tenantId: '', clientSecret: '' });
    const message = await rejectionOf(credential.getToken(scope));
    expect(message).toContain('DefaultAzureCredential');
    expect(message).toContain("'azure-client-id' and 'azure-tenant-id'");
    expect(message).toContain("'permissions: id-token: write'");
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses inputs that fit no credential, naming them', () => {
    expect(errorOf(() => azureCredential({ clientId: '', tenantId, clientSecret: secret }))).toBe(
      "input 'azure-client-secret' is set but 'azure-client-id' is not: a client secret needs the app registration's client id and its tenant",
    );
    expect(
      errorOf(() => azureCredential({ clientId: secretApp, tenantId: '', clientSecret: secret })),
    ).toContain("'azure-tenant-id' is not");
    githubJob();
    expect(
      errorOf(() => azureCredential({ clientId: federatedApp, tenantId: '', clientSecret: '' })),
    ).toContain(
      "input 'azure-tenant-id' is required with 'azure-client-id' for workload identity federation",
    );
    setEnv({ ACTIONS_ID_TOKEN_REQUEST_URL: undefined });
    expect(errorOf(() => azureCredential({ clientId: federatedApp, tenantId, clientSecret: '' }))).toContain(
      "add 'permissions: id-token: write' to the job",
    );
  });

  it('prefers federation over a stored secret on GitHub, and warns', async () => {
    githubJob();
    const credential = azureCredential(
      { clientId: federatedApp, tenantId, clientSecret: 'stale' },
      { authorityHost: fake.url },
    );
    await credential.getToken(scope);
    expect(fake.requestsTo('POST', `/${tenantId}/oauth2/v2.0/token`)[0]?.form.client_secret).toBeUndefined();
    expect(stdout.output()).toContain('::warning::azure-client-secret is ignored');
  });
});
