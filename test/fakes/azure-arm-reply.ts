// The answers of the ARM stand-in's setup routes: ARM's error shape {"error":{"code","message"}}.

export interface ArmReply {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/** The 403 AuthorizationFailed answer for `action` on `scope` when the caller lacks it, else undefined. */
export type Denied = (action: string, scope: string) => ArmReply | undefined;

export const lower = (s: string) => s.toLowerCase();

export function armError(status: number, code: string, message: string): ArmReply {
  return { status, json: { error: { code, message } } };
}

export function ok(json: unknown): ArmReply {
  return { status: 200, json };
}

/**
 * What ARM checks before it looks at the resource: a token issued for it (`audience`; else 401) and an
 * api-version (else 400). The caller's claims, or the refusal.
 */
export function armCaller(
  claims: Record<string, unknown> | undefined,
  audience: string,
  query: Record<string, string>,
): { claims: Record<string, unknown> } | { refused: ArmReply } {
  if (!claims || claims.aud !== audience)
    return { refused: armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.') };
  if (!query['api-version'])
    return {
      refused: armError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      ),
    };
  return { claims };
}
