import type { Manifest } from '../../src/kube/manifests/load.js';
import { validate } from '../../src/kube/manifests/validate.js';
import { hostnameProblem, outsideBackends } from '../../src/kube/manifests/validate-route.js';

const manifest = (object: Record<string, unknown>, line = 1): Manifest => ({
  file: '/k8s/x.yaml',
  line,
  object: object as Manifest['object'],
});
const service = manifest({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'archetype' },
  spec: { ports: [{ port: 80, targetPort: 3000 }] },
});
const route = (spec: Record<string, unknown>) =>
  manifest(
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'archetype' }, spec },
    12,
  );
const good = {
  parentRefs: [{ name: 'shared', namespace: 'gateway-system' }],
  hostnames: ['archetype.example.com'],
  rules: [{ backendRefs: [{ name: 'archetype', port: 80 }] }],
};
const errorOf = (set: Manifest[]) => {
  try {
    validate(set);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
};

describe('HTTPRoute validation', () => {
  it('accepts a route to a Service port of the set', () => {
    expect(errorOf([service, route(good)])).toBe('');
  });

  it('names file:line, route, backend and the ports for a wrong backend port', () => {
    const message = errorOf([
      service,
      route({ ...good, rules: [{ backendRefs: [{ name: 'archetype', port: 8080 }] }] }),
    ]);
    expect(message).toContain("x.yaml:12 HTTPRoute/archetype: rules[0].backendRefs 'archetype' port 8080");
    expect(message).toContain('it has 80');
  });

  it('refuses a route without parentRefs', () => {
    expect(errorOf([service, route({ ...good, parentRefs: [] })])).toMatch(
      /x\.yaml:12 HTTPRoute\/archetype: has no spec\.parentRefs/,
    );
  });

  it('leaves a backend outside the set to preflight', () => {
    const set = [service, route({ ...good, rules: [{ backendRefs: [{ name: 'other', port: 80 }] }] })];
    expect(errorOf(set)).toBe('');
    expect(outsideBackends(set)).toEqual([{ route: 'archetype', name: 'other' }]);
  });

  it('ignores backends of another kind', () => {
    const set = [
      service,
      route({ ...good, rules: [{ backendRefs: [{ group: 'x.io', kind: 'Bucket', name: 'b' }] }] }),
    ];
    expect(errorOf(set)).toBe('');
  });

  it('refuses hostnames that are IPs, carry a port or are not DNS names', () => {
    const message = errorOf([
      service,
      route({ ...good, hostnames: ['10.0.0.1', 'a.example.com:80', 'A_b'] }),
    ]);
    expect(message).toContain("hostname '10.0.0.1' is an IP address");
    expect(message).toContain("hostname 'a.example.com:80' has a port");
    expect(message).toContain("hostname 'A_b' is not a DNS name");
  });

  it('takes a wildcard prefix', () => {
    expect(hostnameProblem('*.example.com')).toBeUndefined();
    expect(hostnameProblem('a.*.example.com')).toMatch(/not a DNS name/);
  });
});
