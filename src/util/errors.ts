/** The message of anything thrown, for a sentence that says what failed. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** errorText with the cause fetch hides behind "fetch failed" (ECONNREFUSED, a reset, …). */
export function errorWithCause(error: unknown): string {
  const e = error as { message?: unknown; cause?: { message?: unknown } } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const cause = typeof e?.cause?.message === 'string' ? `: ${e.cause.message}` : '';
  return `${message}${cause}`;
}
