// acrRefreshToken against a local stand-in (test/fakes/azure-server.ts) for Entra ID ("Microsoft identity
// platform and the OAuth 2.0 client credentials flow") and for ACR's token exchange as Azure/acr
// docs/AAD-OAuth.md documents it: POST /oauth2/exchange, form grant_type=access_token, service, tenant,
// access_token, answering {"refresh_token": ...}.

import { createServer } from 'node:net';
import { acrRefreshToken, acrScope } from '../../src/azure/acr.js';
import { azureCredential } from '../../src/azure/identity.js';
import { jwtClaims } from '../../src/azure/token.js';
import { FakeAzure } from '../fakes/azure-server.js';
import { bareRunner, captureStdout, setEnv } from '../fakes/runner-env.js';

const pusher = '44444444-4444-4444-4444-444444444444';
const registry = 'archetype.azurecr.io';

let fake: FakeAzure;
let restoreEnv: () => void;
let stdout: ReturnType<typeof captureStdout>;

beforeAll(async () => {
  fake = await FakeAzure.start();
  fake.apps.set(pusher, { secret: 'pusher-secret' });
  fake.acr.registry = registry;
  fake.acr.pushers.push(pusher);
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

const credentialOf = (clientId: string, clientSecret: string) =>
  azureCredential({ clientId, tenantId: fake.tenantId, clientSecret }, { authorityHost: fake.url });

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected a rejection');
}

describe('acrRefreshToken', () => {
  it('exchanges an Entra token for the ACR scope for an ACR refresh token, masking both', async () => {
    const refreshToken = await acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), {
      baseUrl: fake.url,
    });

    expect(jwtClaims(refreshToken)).toMatchObject({
      iss: 'Azure Container Registry',
      aud: registry,
      tenant: fake.tenantId,
      grant_type: 'refresh_token',
    });
    const [tokenRequest] = fake.requestsTo('POST', `/${fake.tenantId}/oauth2/v2.0/token`);
    expect(tokenRequest?.form.scope?.split(' ')).toContain(acrScope);
    const exchanges = fake.requestsTo('POST', '/oauth2/exchange');
    expect(exchanges).toHaveLength(1);
    const exchange = exchanges[0];
    expect(exchange?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.keys(exchange?.form ?? {}).sort()).toEqual([
      'access_token',
      'grant_type',
      'service',
      'tenant',
    ]);
    expect(exchange?.form).toMatchObject({
      grant_type: 'access_token',
      service: registry,
      tenant: fake.tenantId,
    });
    expect(jwtClaims(exchange?.form.access_token ?? '')).toMatchObject({
      aud: 'https://containerregistry.azure.net',
      appid: pusher,
    });
    const masked = stdout.masked();
    expect(masked).toContain(exchange?.form.access_token);
    expect(masked).toContain(refreshToken);
  });

  it("asks for an Azure Resource Manager token first, the cloud's, and ACR's own audience only after a 401", async () => {
    const viaArm = await acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), {
      baseUrl: fake.url,
      armEndpoint: fake.url,
    });
    expect(jwtClaims(viaArm)).toMatchObject({ aud: registry });
    const scopes = () =>
      fake.requestsTo('POST', `/${fake.tenantId}/oauth2/v2.0/token`).map((r) => r.form.scope ?? '');
    expect(scopes()).toEqual([expect.stringContaining(`${fake.url}/.default`)]);
    expect(fake.requestsTo('POST', '/oauth2/exchange')).toHaveLength(1);

    fake.requests.length = 0;
    fake.inject('POST /oauth2/exchange', {
      status: 401,
      json: { errors: [{ code: 'UNAUTHORIZED', message: 'audience not accepted' }] },
    });
    await acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), {
      baseUrl: fake.url,
      armEndpoint: fake.url,
    });
    expect(fake.requestsTo('POST', '/oauth2/exchange')).toHaveLength(2);
    expect(scopes().at(-1)).toContain(acrScope);
  });

  it('on 401 quotes ACR, names the tenant first, and the push roles of both permission modes', async () => {
    // ACR exchanges any valid Entra token of its tenant, whatever roles the identity holds (AAD-OAuth.md):
    // what it refuses here is the token, e.g. for a tenant that is not the registry's
    const message = await rejectionOf(
      acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), {
        baseUrl: fake.url,
        tenantId: '99999999-9999-9999-9999-999999999999',
      }),
    );
    expect(message).toContain(`ACR token exchange at ${fake.url}/oauth2/exchange answered HTTP 401:`);
    expect(message).toContain('"code":"UNAUTHORIZED","message":"invalid token or tenant"');
    expect(message).toContain(
      `ACR did not accept the Entra token of ${pusher} (tenant 99999999-9999-9999-9999-999999999999): check that azure-tenant-id is the registry's tenant`,
    );
    expect(message).toContain(
      "assign AcrPush on the registry (a registry in 'RBAC Registry + ABAC Repository Permissions' mode ignores AcrPush: assign 'Container Registry Repository Writer' instead",
    );
    const scope = '--scope $(az acr show --name archetype --query id --output tsv)';
    expect(message).toContain(`az role assignment create --assignee ${pusher} --role AcrPush ${scope}`);
    expect(message).toContain(
      `az role assignment create --assignee ${pusher} --role "Container Registry Repository Writer" ${scope}`,
    );
  });

  it('signs in an identity without push rights, as ACR does: its refresh token carries no permission', async () => {
    const stranger = '55555555-5555-5555-5555-555555555555';
    fake.apps.set(stranger, { secret: 'stranger-secret' });
    const refreshToken = await acrRefreshToken(registry, credentialOf(stranger, 'stranger-secret'), {
      baseUrl: fake.url,
    });
    expect(jwtClaims(refreshToken)).toMatchObject({
      aud: registry,
      grant_type: 'refresh_token',
      permissions: { actions: [], notActions: [] },
    });
    expect(fake.requestsTo('POST', '/oauth2/exchange')).toHaveLength(1);
  });

  it('retries what ACR answers as transient (503 with Retry-After), then succeeds', async () => {
    fake.inject('POST /oauth2/exchange', {
      status: 503,
      headers: { 'retry-after': '0' },
      json: { errors: [{ code: 'UNAVAILABLE', message: 'try again' }] },
    });
    const refreshToken = await acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), {
      baseUrl: fake.url,
    });
    expect(jwtClaims(refreshToken).aud).toBe(registry);
    expect(fake.requestsTo('POST', '/oauth2/exchange')).toHaveLength(2);
  });

  it('asks whether the host is an ACR login server on 404', async () => {
    fake.inject('POST /oauth2/exchange', { status: 404, json: { errors: [{ code: 'NOT_FOUND' }] } });
    const message = await rejectionOf(
      acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), { baseUrl: fake.url }),
    );
    expect(message).toContain('answered HTTP 404: {"errors":[{"code":"NOT_FOUND"}]}');
    expect(message).toContain(
      `Is ${registry} the login server of an Azure Container Registry (input 'registry')?`,
    );
  });

  it('gives up on an unreachable registry after 3 attempts, naming the URL', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const message = await rejectionOf(
      acrRefreshToken(registry, credentialOf(pusher, 'pusher-secret'), {
        baseUrl: `https://127.0.0.1:${port}`,
      }),
    );
    expect(message).toMatch(
      new RegExp(
        `^ACR token exchange for ${registry}: could not reach https://127.0.0.1:${port}/oauth2/exchange \\(3 attempts\\): fetch failed: .*ECONNREFUSED`,
      ),
    );
  });
});
