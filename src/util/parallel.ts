/**
 * Runs the tasks at once and fails with the first failure: the others are stopped through the signal they
 * get (an outer signal, a cancel, stops them all too) and awaited, so nothing runs on after it returns.
 */
export async function allOrFirstFailure<T>(
  tasks: ((signal: AbortSignal) => Promise<T>)[],
  outer?: AbortSignal,
): Promise<T[]> {
  const controller = new AbortController();
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  let failure: { error: unknown } | undefined;
  const results = await Promise.all(
    tasks.map((task) =>
      task(signal).catch((error: unknown) => {
        if (!failure) {
          failure = { error };
          controller.abort(error);
        }
        return undefined as T;
      }),
    ),
  );
  if (failure) throw failure.error;
  return results;
}
