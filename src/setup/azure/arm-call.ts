import { errorText } from '../../util/errors.js';

// One ARM call, its failure turned into an error naming what was done, ARM's code and message, and the fix.
// Only PrincipalNotFound (a principal Entra has not replicated yet) is retried, a bounded number of times.

/** The status and ARM error code of an SDK error (RestError, or the newer clients' errors). */
export function armStatus(error: unknown): { status?: number; code?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const e = error as { statusCode?: unknown; code?: unknown };
  return {
    status: typeof e.statusCode === 'number' ? e.statusCode : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
  };
}

/** An error `<what>: <status> <code>: <message>; <fix>`, where `fixes` names the fix for a status. */
export function armFailure(what: string, error: unknown, fixes: Partial<Record<number, string>> = {}): Error {
  const { status, code } = armStatus(error);
  const fix =
    (status === undefined ? undefined : fixes[status]) ??
    (status === 403
      ? 'the signed-in account lacks a right on that scope: an Owner, User Access Administrator or Role Based Access Control Administrator of it can grant one'
      : undefined);
  const head = [status, code].filter((p) => p !== undefined).join(' ');
  return new Error(`${what}: ${head ? `${head}: ` : ''}${errorText(error)}${fix ? `; ${fix}` : ''}`, {
    cause: error,
  });
}

/** `call`, or armFailure's error. */
export async function armCall<T>(
  what: string,
  call: () => Promise<T>,
  fixes: Partial<Record<number, string>> = {},
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw armFailure(what, error, fixes);
  }
}

/**
 * `call`, tried up to `tries` times while ARM answers PrincipalNotFound (Entra ID replicates a new identity's
 * service principal with a delay of seconds to minutes), waiting `delayMs`, doubled each time.
 */
export async function retryPrincipalNotFound<T>(
  call: () => Promise<T>,
  { tries = 6, delayMs = 5000 }: { tries?: number; delayMs?: number } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (armStatus(error).code !== 'PrincipalNotFound' || attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs * 2 ** (attempt - 1)));
    }
  }
}

/** Every item of an ARM list (the SDKs' paged iterators). */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
