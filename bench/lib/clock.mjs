// One clock for every timestamp the benchmark compares: the action's log lines as they arrive on the
// pipe, the events of the benchmark's own watches, process start and exit. Milliseconds, sub-ms precision.
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
