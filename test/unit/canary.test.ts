import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { analyse, describeVerdict, figuresOf, type Sample } from '../../src/kube/canary/analysis.js';
import { canaryObjects, canaryReplicas, findCanaryTarget, routeAt } from '../../src/kube/canary/plan.js';
import type { Manifest } from '../../src/kube/manifests/load.js';
import { parseSteps } from '../../src/settings/strategy.js';

// The canary's pure core: which objects a canary is made of (from k8s-gateway/, the archetype's routed set),
// how the route splits and how a step is judged.

const folder = new URL('../../k8s-gateway/', import.meta.url);
const set: Manifest[] = readdirSync(folder)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, folder), 'utf8')).map((d, i) => ({
      file: `k8s-gateway/${f}`,
      line: i + 1,
      object: d.toJS() as Manifest['object'],
    })),
  );
const thresholds = { maxErrorIncrease: 0.01, maxLatencyRatio: 1.5, latencyFloorMs: 50, minRequests: 20 };
const ok = (n: number, ms = 10): Sample[] => Array.from({ length: n }, () => ({ status: 200, ms }));
const failed = (n: number): Sample[] => Array.from({ length: n }, () => ({ status: 500, ms: 5 }));

describe('the canary of a routed set', () => {
  const target = findCanaryTarget(set);

  it('finds the Deployment the HTTPRoute reaches through its Service', () => {
    expect(target.deployment.metadata?.name).toBe('archetype');
    expect(target.service.metadata?.name).toBe('archetype');
    expect(target.route.metadata?.name).toBe('archetype');
  });

  it('gives the canary pods labels the stable Service does not select, behind a Service of its own', () => {
    const { deployment, service } = canaryObjects(target, 1);
    const stableSelector = (target.service.spec as { selector: Record<string, string> }).selector;
    const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } })
      .template.metadata.labels;
    expect(Object.entries(stableSelector).every(([k, v]) => podLabels[k] === v)).toBe(false);
    const own = (service.spec as { selector: Record<string, string> }).selector;
    expect(Object.entries(own).every(([k, v]) => podLabels[k] === v)).toBe(true);
    const matchLabels = (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    expect(Object.entries(matchLabels).every(([k, v]) => podLabels[k] === v)).toBe(true);
    expect(deployment.metadata?.name).toBe('archetype-canary');
    expect(service.metadata?.name).toBe('archetype-canary');
    expect((deployment.spec as { replicas: number }).replicas).toBe(1);
    // the stable objects are not changed by it
    expect((target.deployment.metadata as { name: string }).name).toBe('archetype');
  });

  it('splits the route by weight, with one probe rule for each side', () => {
    const route = routeAt(target, 10) as {
      spec: { rules: { matches: unknown[]; backendRefs: unknown[] }[] };
    };
    expect(route.spec.rules).toHaveLength(3);
    const [canary, stable, split] = route.spec.rules;
    expect(split?.backendRefs).toEqual([
      { name: 'archetype', port: 80, weight: 90 },
      { name: 'archetype-canary', port: 80, weight: 10 },
    ]);
    expect(canary?.matches).toEqual([
      {
        path: { type: 'PathPrefix', value: '/' },
        headers: [{ type: 'Exact', name: 'x-archetype-deploy-canary', value: 'canary' }],
      },
    ]);
    expect(canary?.backendRefs).toEqual([{ name: 'archetype-canary', port: 80, weight: 1 }]);
    expect(stable?.backendRefs).toEqual([{ name: 'archetype', port: 80, weight: 1 }]);
  });

  it('scales the canary with its share, one pod at least', () => {
    expect([10, 50, 100].map((w) => canaryReplicas(2, w))).toEqual([1, 1, 2]);
    expect(canaryReplicas(10, 25)).toBe(3);
  });

  it('refuses a set without a route, naming the way out', () => {
    expect(() => findCanaryTarget(set.filter((m) => m.object.kind !== 'HTTPRoute'))).toThrow(
      /strategy 'canary' splits traffic with an HTTPRoute's backend weights, and the manifests have none/,
    );
  });
});

describe("a step's verdict", () => {
  it('passes a canary as good as stable', () => {
    const v = analyse(ok(40), ok(40), thresholds);
    expect(v.pass).toBe(true);
    expect(describeVerdict(10, v)).toBe(
      'canary at 10 %: canary 40 requests, 0.0 % errors, p95 10 ms; stable 40 requests, 0.0 % errors, p95 10 ms → pass',
    );
  });

  it('aborts on errors above stable’s plus the allowance, with the numbers', () => {
    const v = analyse(ok(40), [...ok(36), ...failed(4)], thresholds);
    expect(v.pass).toBe(false);
    expect(v.failures).toEqual([
      "error ratio 10.0 % (4 of 40) against stable's 0.0 % (0 of 40): more than 1.0 % above",
    ]);
  });

  it('aborts on p95 latency beyond the ratio, but not under the floor', () => {
    expect(analyse(ok(40, 100), ok(40, 200), thresholds).failures).toEqual([
      "p95 latency 200 ms against stable's 100 ms: above 150 ms (1.5× stable, 50 ms at least)",
    ]);
    expect(analyse(ok(40, 2), ok(40, 40), thresholds).pass).toBe(true);
  });

  it('decides nothing on too few requests', () => {
    expect(analyse(ok(40), ok(5), thresholds).failures[0]).toMatch(
      /only 5 probe requests reached the canary/,
    );
  });

  it('counts no answer as an error and leaves it out of the latency', () => {
    expect(
      figuresOf([
        { status: 0, ms: 10_000 },
        { status: 200, ms: 20 },
      ]),
    ).toEqual({
      requests: 2,
      errors: 1,
      errorRatio: 0.5,
      p95Ms: 20,
    });
  });
});

describe('input canary-steps', () => {
  it.each([
    ['10,50,100', [10, 50, 100]],
    ['100', [100]],
    ['50, 100', [50, 100]],
  ])('takes %s', (value, steps) => expect(parseSteps(value)).toEqual(steps));

  it.each([
    ['', /is empty/],
    ['10,50', /must end at 100/],
    ['50,10,100', /must rise at every step/],
    ['0,100', /'0' is not a whole percentage/],
    ['10%,100', /'10%' is not a whole percentage/],
  ])('refuses %j', (value, message) => expect(parseSteps(value)).toMatch(message));
});
