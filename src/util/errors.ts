/** The message of anything thrown, for a sentence that says what failed. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
