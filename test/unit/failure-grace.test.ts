import { getSettings, parseFailureGrace } from '../../src/settings.js';
import { readerFor } from '../helpers/action-inputs.js';

// Input 'failure-grace': how long a failing pod is given before the rollout fails (trackRollout's options).

const minimal = { registry: '127.0.0.1:5000', kubeconfig: 'apiVersion: v1\nkind: Config\n' };

describe('failure-grace', () => {
  it("defaults to trackRollout's own defaults", () => {
    expect(getSettings(readerFor(minimal)).failureGrace).toEqual({
      graceMs: 10_000,
      graceObservations: 3,
      crashLoopRestarts: 3,
    });
  });

  it('takes a duration alone as a grace that observations do not cut short', () => {
    expect(parseFailureGrace('30s')).toEqual({
      graceMs: 30_000,
      graceObservations: Number.POSITIVE_INFINITY,
      crashLoopRestarts: 3,
    });
    expect(parseFailureGrace('2 observations, 5 restarts')).toEqual({
      graceMs: Number.POSITIVE_INFINITY,
      graceObservations: 2,
      crashLoopRestarts: 5,
    });
  });

  it('names the input and the bad part', () => {
    expect(() => getSettings(readerFor({ ...minimal, 'failure-grace': '10s, soon' }))).toThrow(
      "input 'failure-grace': 'soon' is not a duration, 'N observations' or 'N restarts'",
    );
    expect(parseFailureGrace('4 restarts')).toMatch(/gives no duration nor observations/);
    expect(parseFailureGrace('0 observations')).toMatch(/at least 1/);
  });
});
