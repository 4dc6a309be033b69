import type { KubernetesObject } from '@kubernetes/client-node';
import { kindOf } from '../../src/kube/kinds.js';
import {
  checkGateways,
  type Gateway,
  type GatewayClass,
  hostnamesIntersect,
  type Listener,
} from '../../src/kube/preflight/gateway.js';
import { appRoutingNotice } from '../../src/kube/preflight/ingress-class.js';

const route = (spec: Record<string, unknown> = {}): KubernetesObject =>
  ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'archetype', namespace: 'archetype' },
    spec: {
      parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }],
      hostnames: ['archetype.example.com'],
      ...spec,
    },
  }) as KubernetesObject;
const listener = (l: Partial<Listener> = {}): Listener => ({
  name: 'http',
  port: 80,
  protocol: 'HTTP',
  allowedRoutes: { namespaces: { from: 'All' } },
  ...l,
});
const gateway = (listeners: Listener[], className = 'approuting-istio'): Gateway => ({
  metadata: { name: 'shared', namespace: 'infra' },
  spec: { gatewayClassName: className, listeners },
});
const accepted: GatewayClass = {
  metadata: { name: 'approuting-istio' },
  status: { conditions: [{ type: 'Accepted', status: 'True' }] },
};
const check = (
  g: Gateway | undefined,
  r = route(),
  labels: Record<string, string> = {},
  classes = [accepted],
) =>
  checkGateways([r], 'archetype', {
    gateways: new Map(g ? [['infra/shared', g]] : []),
    classes,
    namespaceLabels: labels,
  }).map((f) => f.message);

describe('Gateway preflight', () => {
  it('passes a route its Gateway admits', () => {
    expect(check(gateway([listener()]))).toEqual([]);
  });

  it('says a missing Gateway', () => {
    expect(check(undefined)).toEqual([
      expect.stringContaining('its parent Gateway infra/shared does not exist'),
    ]);
  });

  it('says a missing or unaccepted GatewayClass, with the AKS command', () => {
    expect(check(gateway([listener()]), route(), {}, [])[0]).toContain(
      'az aks approuting gateway istio enable',
    );
    const pending: GatewayClass = { metadata: { name: 'approuting-istio' }, status: { conditions: [] } };
    expect(check(gateway([listener()]), route(), {}, [pending])[0]).toContain('is not Accepted');
  });

  it('says the usual mistake: from Same on a shared Gateway', () => {
    const [message] = check(gateway([listener({ allowedRoutes: {} })]));
    expect(message).toContain(
      'Gateway infra/shared listener http admits routes only from its own namespace (allowedRoutes.namespaces.from: Same); set from: Selector',
    );
  });

  it('admits by namespace labels with from: Selector', () => {
    const selecting = listener({
      allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { gateway: 'shared' } } } },
    });
    expect(check(gateway([selecting]), route(), { gateway: 'shared' })).toEqual([]);
    expect(check(gateway([selecting]), route(), {})[0]).toContain(
      'admits routes only from namespaces matching',
    );
  });

  it('says a sectionName no listener has, and a listener of other kinds', () => {
    expect(check(gateway([listener({ name: 'https', port: 443, protocol: 'HTTPS' })]))[0]).toContain(
      'has no listener named http (it has https (HTTPS 443))',
    );
    expect(check(gateway([listener({ allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } })]))[0]).toContain(
      'admits only GRPCRoute',
    );
  });

  it('says hostnames no listener covers', () => {
    expect(check(gateway([listener({ hostname: '*.other.com' })]))[0]).toContain(
      "matches the route's hostnames archetype.example.com",
    );
  });

  it('intersects hostnames as the Gateway API does', () => {
    expect(hostnamesIntersect(undefined, 'a.example.com')).toBe(true);
    expect(hostnamesIntersect('*.example.com', 'a.example.com')).toBe(true);
    expect(hostnamesIntersect('*.example.com', 'b.a.example.com')).toBe(true);
    expect(hostnamesIntersect('*.example.com', 'example.com')).toBe(false);
    expect(hostnamesIntersect('a.example.com', '*.example.com')).toBe(true);
    expect(hostnamesIntersect('*.a.example.com', '*.example.com')).toBe(true);
    expect(hostnamesIntersect('a.example.com', 'b.example.com')).toBe(false);
  });
});

describe('the NGINX application routing notice', () => {
  const ingress = (className?: string): KubernetesObject =>
    ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'archetype' },
      spec: { ingressClassName: className },
    }) as KubernetesObject;

  it('points an Ingress of webapprouting.kubernetes.azure.com to the move to Gateway API', () => {
    const notice = appRoutingNotice([ingress('webapprouting.kubernetes.azure.com')]);
    expect(notice).toContain('Ingress/archetype uses class webapprouting.kubernetes.azure.com');
    expect(notice).toContain('security fixes ended November 2026');
    expect(notice).toContain('docs/gateway-api.md');
  });

  it('says nothing for another class or a route', () => {
    expect(appRoutingNotice([ingress('nginx'), route()])).toBeUndefined();
  });
});

describe('Gateway API kinds', () => {
  it('knows the class as cluster-wide and the Gateway as never pruned nor in a preview', () => {
    expect(kindOf('GatewayClass')?.clusterScoped).toBe(true);
    expect(kindOf('Gateway')).toMatchObject({ prunable: false, preview: false });
    expect(kindOf('Gateway')?.order).toBeLessThan(kindOf('HTTPRoute')?.order ?? 0);
  });
});
