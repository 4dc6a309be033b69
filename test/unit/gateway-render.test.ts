import type { Manifest } from '../../src/kube/manifests/load.js';
import { render } from '../../src/kube/manifests/render.js';
import { urlOfRoute, urlOfSet } from '../../src/kube/reach/reach.js';
import { planDeploy, type RunInfo } from '../../src/plan.js';
import { getSettings } from '../../src/settings.js';
import { readerFor } from '../helpers/action-inputs.js';

const run: RunInfo = {
  sha: '0123456789abcdef0123456789abcdef01234567',
  defaultBranch: true,
  repositoryUrl: 'https://github.com/team/archetype',
  runUrl: 'https://github.com/team/archetype/actions/runs/1',
  ghaCache: false,
  publicRepository: true,
  now: new Date('2026-11-30T00:00:00Z'),
};
const settings = (values: Record<string, string> = {}) =>
  getSettings(
    readerFor({
      registry: 'myacr.azurecr.io',
      kubeconfig: 'x',
      host: 'archetype.example.com',
      'preview-domain': 'preview.example.com',
      ...values,
    }),
  );
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
};
const set = (): Manifest[] =>
  [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'archetype' },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'archetype' }] } } },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'archetype' },
      spec: {
        parentRefs: [
          { name: 'shared', namespace: 'gateway-system', sectionName: 'http' },
          { kind: 'Service', name: 'mesh' },
        ],
        hostnames: ['archetype.example.com'],
      },
    },
  ].map((object, i) => ({ file: 'k8s/x.yaml', line: i * 10 + 1, object: object as Manifest['object'] }));
const routeOf = (values: Record<string, string>, pr?: number) => {
  const plan = planDeploy(settings(values), run, pr);
  const rendered = render(set(), {
    ...plan.render,
    image: `myacr.azurecr.io/archetype@sha256:${'ab'.repeat(32)}`,
  });
  // biome-ignore lint/suspicious/noExplicitAny: reads the rendered route
  return rendered.find((m) => m.object.kind === 'HTTPRoute')?.object as any;
};

describe('HTTPRoute rendering and the gateway input', () => {
  it("gives a preview's route its own host, and keeps the manifests' parents without the input", () => {
    const route = routeOf({}, 7);
    expect(route.spec.hostnames).toEqual(['pr-7.preview.example.com']);
    expect(route.spec.parentRefs[0]).toEqual({
      name: 'shared',
      namespace: 'gateway-system',
      sectionName: 'http',
    });
  });

  it("points every Gateway parentRef at the input's Gateway, and no other kind", () => {
    const route = routeOf({ gateway: 'infra/edge' });
    expect(route.spec.hostnames).toEqual(['archetype.example.com']);
    expect(route.spec.parentRefs).toEqual([
      { name: 'edge', namespace: 'infra', sectionName: 'http' },
      { kind: 'Service', name: 'mesh' },
    ]);
  });

  it('refuses a gateway input that is not namespace/name, naming the input', () => {
    expect(errorOf(() => settings({ gateway: 'shared' }))).toMatch(
      /gateway.*'shared' is not namespace\/name/,
    );
    expect(errorOf(() => settings({ gateway: 'a/b/c' }))).toMatch(/gateway/);
  });
});

describe('the URL of a set with an HTTPRoute', () => {
  const route = (hostnames: string[]) =>
    ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'a' },
      spec: { hostnames },
    }) as never;
  it("is the route's first concrete hostname, and the Ingress's when both are there", () => {
    expect(urlOfSet([route(['*.example.com', 'archetype.example.com'])])).toBe(
      'http://archetype.example.com/',
    );
    expect(urlOfRoute(route([]))).toBe('');
    const ingress = {
      kind: 'Ingress',
      metadata: { name: 'a' },
      spec: { rules: [{ host: 'old.example.com' }] },
    } as never;
    expect(urlOfSet([route(['archetype.example.com']), ingress])).toBe('http://old.example.com/');
  });
});
