import { parseDuration } from '../util/duration.js';
import type { Inputs } from './inputs.js';

// How a run ends: which environment it deploys, what a rollback restores, and how long a failing pod is
// given before the rollout fails.

export type Environment = { kind: 'production' } | { kind: 'preview'; pr: number };

export type RollbackTarget =
  | { kind: 'previous' }
  | { kind: 'revision'; revision: number }
  | { kind: 'image'; ref: string };

export interface FailureGrace {
  graceMs: number;
  graceObservations: number;
  crashLoopRestarts: number;
}

export interface RolloutSettings {
  environment: Environment;
  rollbackTarget: RollbackTarget;
  preflight: 'error' | 'warn';
  /** how long a failing pod of a rollout is given before the rollout fails (trackRollout's options) */
  failureGrace: FailureGrace;
}

const defaultFailureGrace: FailureGrace = { graceMs: 10_000, graceObservations: 3, crashLoopRestarts: 3 };
const imageTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function readRollout(inputs: Inputs): RolloutSettings {
  const environment = parseEnvironment(inputs.text('environment'), inputs);
  const rollbackTarget = parseRollbackTarget(inputs.text('rollback-target'), inputs);
  const preflight = inputs.oneOf('preflight', ['error', 'warn'] as const);
  const grace = parseFailureGrace(inputs.text('failure-grace'));
  if (typeof grace === 'string') inputs.fail('failure-grace', grace);
  return {
    environment,
    rollbackTarget,
    preflight,
    failureGrace: typeof grace === 'string' ? defaultFailureGrace : grace,
  };
}

/**
 * 'failure-grace': a duration a failure reason must hold, optionally 'N observations' (fail sooner once seen
 * N times) and 'N restarts' (CrashLoopBackOff fails from N restarts), comma-separated. What is not given
 * does not cut the grace short: '30s' waits 30 s however often the pod is seen (restarts default to 3).
 * Returns the problem as a string when the text is none of these.
 */
export function parseFailureGrace(value: string): FailureGrace | string {
  const grace: FailureGrace = {
    graceMs: Number.POSITIVE_INFINITY,
    graceObservations: Number.POSITIVE_INFINITY,
    crashLoopRestarts: defaultFailureGrace.crashLoopRestarts,
  };
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return `is empty; use e.g. '30s' or '10s, 3 observations, 3 restarts'`;
  for (const part of parts) {
    const count = /^(\d{1,4})\s*(observations?|restarts?)$/.exec(part);
    if (count) {
      const n = Number(count[1]);
      if (n < 1) return `'${part}': the number must be at least 1`;
      if (count[2]?.startsWith('observation')) grace.graceObservations = n;
      else grace.crashLoopRestarts = n;
      continue;
    }
    const ms = parseDuration(part);
    if (ms === undefined || ms <= 0)
      return `'${part}' is not a duration, 'N observations' or 'N restarts'; use e.g. '30s' or '10s, 3 observations, 3 restarts'`;
    grace.graceMs = ms;
  }
  if (!Number.isFinite(grace.graceMs) && !Number.isFinite(grace.graceObservations))
    return `'${value}' gives no duration nor observations, so a failing pod would never fail the rollout early; add e.g. '30s'`;
  return grace;
}

function parseEnvironment(value: string, inputs: Inputs): Environment {
  if (value === 'production') return { kind: 'production' };
  const match = /^(?:pr-|#)?(\d{1,9})$/.exec(value);
  const pr = Number(match?.[1]);
  if (!match || pr < 1) {
    inputs.fail('environment', `'${value}' is neither production nor a pull request number (e.g. 7 or pr-7)`);
    return { kind: 'production' };
  }
  return { kind: 'preview', pr };
}

function parseRollbackTarget(value: string, inputs: Inputs): RollbackTarget {
  if (value === 'previous') return { kind: 'previous' };
  if (/^\d{1,9}$/.test(value) && Number(value) > 0) return { kind: 'revision', revision: Number(value) };
  if (imageTag.test(value)) return { kind: 'image', ref: value };
  inputs.fail('rollback-target', `'${value}' is not previous, a revision number, or an image tag / git sha`);
  return { kind: 'previous' };
}
