import { readFileSync } from 'node:fs';
import { loadManifests } from '../../src/kube/manifests/load.js';
import { validate } from '../../src/kube/manifests/validate.js';

// k8s-gateway/ is k8s/ with an HTTPRoute in place of the Ingress (docs/gateway-api.md)
describe('k8s-gateway/', () => {
  it('holds the same Deployment and Service as k8s/', () => {
    for (const file of ['deployment.yaml', 'service.yaml'])
      expect(readFileSync(`k8s-gateway/${file}`, 'utf8')).toBe(readFileSync(`k8s/${file}`, 'utf8'));
  });

  it('is a valid set whose route sends to the Service', () => {
    const set = loadManifests('k8s-gateway');
    expect(set.map((m) => m.object.kind).sort()).toEqual(['Deployment', 'HTTPRoute', 'Service']);
    expect(() => validate(set)).not.toThrow();
  });
});
