import type { CanaryThresholds } from '../../settings/strategy.js';

// One step's verdict on a canary, from what was measured: pure, so that each threshold is tested alone and
// the numbers behind a verdict are the ones the log, the summary and the release record show.

/** One probe answer: its HTTP status (0 when none came) and how long it took. */
export interface Sample {
  status: number;
  ms: number;
}

export interface Figures {
  requests: number;
  /** answers of 5xx, or none at all */
  errors: number;
  errorRatio: number;
  /** of the answers that came, in ms; 0 when none did */
  p95Ms: number;
}

export interface Verdict {
  pass: boolean;
  stable: Figures;
  canary: Figures;
  /** each threshold the canary broke, with its numbers */
  failures: string[];
}

export function figuresOf(samples: readonly Sample[]): Figures {
  const errors = samples.filter((s) => s.status === 0 || s.status >= 500).length;
  const answered = samples
    .filter((s) => s.status !== 0)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  return {
    requests: samples.length,
    errors,
    errorRatio: samples.length === 0 ? 0 : errors / samples.length,
    p95Ms: answered.length === 0 ? 0 : (answered[Math.ceil(answered.length * 0.95) - 1] ?? 0),
  };
}

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

/** The canary against stable: errors no more than stable's plus the allowance, p95 within the ratio. */
export function analyse(stable: readonly Sample[], canary: readonly Sample[], t: CanaryThresholds): Verdict {
  const s = figuresOf(stable);
  const c = figuresOf(canary);
  const failures: string[] = [];
  if (c.requests < t.minRequests)
    failures.push(
      `only ${c.requests} probe requests reached the canary, fewer than the ${t.minRequests} a verdict needs`,
    );
  if (c.errorRatio > s.errorRatio + t.maxErrorIncrease)
    failures.push(
      `error ratio ${pct(c.errorRatio)} (${c.errors} of ${c.requests}) against stable's ${pct(s.errorRatio)} (${s.errors} of ${s.requests}): more than ${pct(t.maxErrorIncrease)} above`,
    );
  const latencyLimit = Math.max(t.latencyFloorMs, s.p95Ms * t.maxLatencyRatio);
  if (c.p95Ms > latencyLimit)
    failures.push(
      `p95 latency ${Math.round(c.p95Ms)} ms against stable's ${Math.round(s.p95Ms)} ms: above ${Math.round(latencyLimit)} ms (${t.maxLatencyRatio}× stable, ${t.latencyFloorMs} ms at least)`,
    );
  return { pass: failures.length === 0, stable: s, canary: c, failures };
}

/** One line of figures, for the log and the release record. */
export function describeVerdict(weight: number, v: Verdict): string {
  const side = (name: string, f: Figures) =>
    `${name} ${f.requests} requests, ${pct(f.errorRatio)} errors, p95 ${Math.round(f.p95Ms)} ms`;
  return `canary at ${weight} %: ${side('canary', v.canary)}; ${side('stable', v.stable)} → ${v.pass ? 'pass' : `abort: ${v.failures.join('; ')}`}`;
}
