import { randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { aksServerAppId } from '../../src/azure/aks.js';
import { KubeApiError } from '../../src/kube/client/client.js';
import { kubeconfigText, testCluster } from '../helpers/cluster.js';

// The local API server authenticates bearer tokens the way AKS authenticates Microsoft Entra tokens
// (scripts/lib/stack-kube.sh: a JWT issuer read from tools/entra-issuer's OpenID discovery document and JWK
// Set): RS256 signed by the issuer's key, audience the AKS server application, exp enforced, the user is
// the oid claim and the groups the groups claim ("Authenticating", kubernetes.io, structured authentication
// configuration).

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: eval "$(scripts/local-stack env)"`);
  return value;
};

function token(
  claims: Record<string, unknown>,
  key = readFileSync(env('ENTRA_SIGNING_KEY'), 'utf8'),
): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${part({ typ: 'JWT', alg: 'RS256', kid: env('ENTRA_KID') })}.${part({
    iss: env('ENTRA_ISSUER'),
    aud: aksServerAppId,
    iat: now,
    nbf: now,
    exp: now + 600,
    ...claims,
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** The admin kubeconfig's cluster with a bearer token user instead of the certificate. */
function asBearer(bearer: string) {
  const admin = kubeconfigText();
  const server = /server:\s*(\S+)/.exec(admin)?.[1];
  const ca = /certificate-authority-data:\s*(\S+)/.exec(admin)?.[1];
  return testCluster(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: '${server}', certificate-authority-data: ${ca}}}]
users: [{name: u, user: {token: '${bearer}'}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`);
}

const whoAmI = (bearer: string) =>
  asBearer(bearer).request<{ status: { userInfo: { username: string; groups: string[] } } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, outageMs: 0 },
  );

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof KubeApiError) return error.status;
    throw error;
  }
}

describe('the local API server authenticates Entra-style tokens as AKS does', () => {
  it('takes a token of the issuer for the AKS server application: the user is its oid, with its groups', async () => {
    const oid = randomUUID();
    const group = randomUUID();
    const review = await whoAmI(token({ oid, groups: [group], tid: 'tenant' }));
    expect(review.status.userInfo.username).toBe(oid);
    expect(review.status.userInfo.groups).toContain(group);
    // known, and bound to nothing: RBAC refuses it
    expect(await status(asBearer(token({ oid })).request('GET', '/api/v1/namespaces/default/pods'))).toBe(
      403,
    );
  });

  it('refuses an expired token, another audience, another issuer and another key with 401', async () => {
    const oid = randomUUID();
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect(await status(whoAmI(token({ oid, iat: past, nbf: past, exp: past + 60 })))).toBe(401);
    expect(await status(whoAmI(token({ oid, aud: 'https://management.azure.com' })))).toBe(401);
    expect(await status(whoAmI(token({ oid, iss: 'https://login.microsoftonline.com/other/v2.0' })))).toBe(
      401,
    );
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    expect(await status(whoAmI(token({ oid }, other)))).toBe(401);
  });
});
