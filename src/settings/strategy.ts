import type { Inputs } from './inputs.js';

// How production takes a new revision: a rolling update of its Deployment (the default), or a canary that
// sends a growing share of the route's traffic to the new revision, measures it against the stable one at
// each step and goes on or aborts by itself (kube/canary/).

export interface CanaryThresholds {
  /** the canary's error ratio may exceed stable's by at most this much (0.01 = 1 percentage point) */
  maxErrorIncrease: number;
  /** the canary's p95 latency may be at most this many times stable's */
  maxLatencyRatio: number;
  /** latencies under this are never a failure, however they compare (noise on an idle service) */
  latencyFloorMs: number;
  /** probe requests per backend each step sends at least, so that a ratio means something */
  minRequests: number;
}

export interface CanarySettings extends CanaryThresholds {
  /** the canary's share of the route's traffic at each step, in percent, ascending, ending at 100 */
  steps: number[];
  /** how long each step below 100 holds while it is measured */
  stepMs: number;
  /** stop after the steps below 100, split, until mode promote or abort (a review between) */
  pause: boolean;
}

export type Strategy = { kind: 'rolling' } | { kind: 'canary'; canary: CanarySettings };

export const strategies = ['rolling', 'canary'] as const;

export function readStrategy(inputs: Inputs): Strategy {
  const kind = inputs.oneOf('strategy', strategies);
  if (kind !== 'canary') return { kind: 'rolling' };
  const steps = parseSteps(inputs.text('canary-steps'));
  if (typeof steps === 'string') inputs.fail('canary-steps', steps);
  const pause = inputs.bool('canary-pause');
  if (pause && Array.isArray(steps) && steps.length === 1)
    inputs.fail(
      'canary-steps',
      `'100' has no step below 100 % for canary-pause to stop at; use e.g. '10,50,100'`,
    );
  return {
    kind: 'canary',
    canary: {
      steps: typeof steps === 'string' ? [100] : steps,
      stepMs: inputs.duration('canary-step-duration'),
      pause,
      maxErrorIncrease: percent(inputs, 'canary-max-error-increase') / 100,
      maxLatencyRatio: ratio(inputs, 'canary-max-latency-ratio'),
      latencyFloorMs: inputs.duration('canary-latency-floor'),
      minRequests: inputs.count('canary-min-requests', 10, 100_000),
    },
  };
}

/** '10,50,100': whole percentages, ascending, the last 100; the problem as a string otherwise. */
export function parseSteps(value: string): number[] | string {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const steps = parts.map(Number);
  const bad = parts.find((p, i) => !/^\d{1,3}$/.test(p) || (steps[i] ?? 0) < 1 || (steps[i] ?? 0) > 100);
  if (parts.length === 0) return `is empty; use e.g. '10,50,100'`;
  if (bad !== undefined) return `'${bad}' is not a whole percentage from 1 to 100; use e.g. '10,50,100'`;
  if (steps.some((s, i) => i > 0 && s <= (steps[i - 1] ?? 0)))
    return `'${value}' must rise at every step, e.g. '10,50,100'`;
  if (steps[steps.length - 1] !== 100)
    return `'${value}' must end at 100: the canary is promoted only once it takes all the traffic`;
  return steps;
}

function percent(inputs: Inputs, name: string): number {
  const value = inputs.text(name);
  const n = Number(value.replace(/%$/, ''));
  if (!/^\d{1,2}(\.\d+)?%?$/.test(value) || n > 50)
    inputs.fail(name, `'${value}' is not a percentage from 0 to 50, e.g. 1 or 0.5%`);
  return Number.isFinite(n) ? n : 0;
}

function ratio(inputs: Inputs, name: string): number {
  const value = inputs.text(name);
  const n = Number(value);
  if (!/^\d{1,3}(\.\d+)?$/.test(value) || n < 1)
    inputs.fail(name, `'${value}' is not a ratio of at least 1, e.g. 1.5`);
  return Number.isFinite(n) ? n : 1;
}
