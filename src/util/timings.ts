import * as core from '@actions/core';
import { requestsSent } from './requests.js';

/**
 * Runs named steps in log groups and keeps how long each took and how many API server requests the process
 * sent meanwhile (a step that runs beside another counts the other's too), for the job summary.
 */
export class Timings {
  readonly steps: { name: string; ms: number; ok: boolean; requests: number }[] = [];

  async step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    return this.time(name, () => core.group(name, async () => fn()));
  }

  /** Times a step without a log group of its own: one of several that run at once inside a group. */
  async time<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const started = performance.now();
    const sentBefore = requestsSent();
    let ok = false;
    try {
      const result = await fn();
      ok = true;
      return result;
    } finally {
      this.steps.push({
        name,
        ms: Math.round(performance.now() - started),
        ok,
        requests: requestsSent() - sentBefore,
      });
    }
  }
}
