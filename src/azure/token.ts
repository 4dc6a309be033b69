import type { TokenCredential } from '@azure/identity';
import { maskSecret } from '../util/secrets.js';

/** An Entra access token for `scope`, masked in the log before anyone can print it. */
export async function bearerToken(credential: TokenCredential, scope: string): Promise<string> {
  const token = await credential.getToken(scope);
  if (!token?.token) throw new Error(`the Azure credential returned no token for ${scope}`);
  maskSecret(token.token);
  return token.token;
}

/**
 * The claims of a JWT, read without verifying it (the issuer's audience verifies it); {} when the token is
 * not a JWT. Used only to name the tenant and the principal in requests and error messages.
 */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The identity a token was issued to, as `az role assignment create --assignee` takes it. */
export function principalOf(claims: Record<string, unknown>): string | undefined {
  for (const name of ['appid', 'azp', 'oid'])
    if (typeof claims[name] === 'string' && claims[name]) return claims[name] as string;
  return undefined;
}
