// A cancelled workflow run: the runner sends SIGINT, SIGTERM about 7.5 s later, then SIGKILL. While a deploy
// has written to the cluster, the first signal must end its wait at once so that the previous release is
// restored in the seconds left; before and after that window the default (exit) is right.

export class Cancelled extends Error {
  constructor(signal: string) {
    super(`the run was cancelled (${signal})`);
    this.name = 'Cancelled';
  }
}

let requested = false;

/** Whether a cancellation was caught during this run: the job then exits as soon as it has reported. */
export const cancelRequested = () => requested;

export interface Cancellation {
  /** rejects with Cancelled on the first SIGINT or SIGTERM */
  promise: Promise<never>;
  /** aborted with it: long work checks it between writes */
  signal: AbortSignal;
  dispose(): void;
}

export function catchCancellation(): Cancellation {
  const controller = new AbortController();
  let reject: (error: Cancelled) => void = () => undefined;
  const promise = new Promise<never>((_, r) => {
    reject = r;
  });
  // a rejection nobody awaits yet must not end the process
  promise.catch(() => undefined);
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return; // the second signal: the restore is under way
    requested = true;
    const error = new Cancelled(signal);
    controller.abort(error);
    reject(error);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    promise,
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
