import { gatewayVerdict, routeVerdict } from '../../src/kube/reach/route-status.js';

// An HTTPRoute's state from its status.parents, as a Gateway API controller writes it (gateway-api v1.6.3
// RouteParentStatus: Accepted and ResolvedRefs, with the spec's reasons).

const route = (parents: unknown[], sectionName?: string) =>
  ({
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'app' },
    spec: { parentRefs: [{ name: 'shared', namespace: 'infra', ...(sectionName ? { sectionName } : {}) }] },
    status: { parents },
  }) as Parameters<typeof routeVerdict>[0];
const parent = (conditions: unknown[], sectionName?: string) => ({
  parentRef: { name: 'shared', namespace: 'infra', ...(sectionName ? { sectionName } : {}) },
  controllerName: 'archetype.local/edge',
  conditions,
});
const accepted = { type: 'Accepted', status: 'True', reason: 'Accepted' };
const resolved = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' };

describe('routeVerdict', () => {
  it('is pending until the controller writes the entry of each parentRef', () => {
    expect(routeVerdict(route([]))).toEqual({
      state: 'pending',
      waitingFor: 'Gateway infra/shared to accept HTTPRoute/web',
    });
    // an entry for another listener is not this parentRef's
    expect(routeVerdict(route([parent([accepted, resolved], 'https')], 'http')).state).toBe('pending');
  });

  it('is accepted when Accepted and ResolvedRefs are True', () => {
    expect(routeVerdict(route([parent([accepted, resolved])]))).toEqual({ state: 'accepted' });
  });

  it("is refused with the controller's reason and message", () => {
    const refused = {
      type: 'Accepted',
      status: 'False',
      reason: 'NotAllowedByListeners',
      message: 'no listener of Gateway infra/shared admits HTTPRoutes from namespace app',
    };
    expect(routeVerdict(route([parent([refused, resolved])]))).toEqual({
      state: 'refused',
      reason:
        'HTTPRoute/web is not accepted by Gateway infra/shared: NotAllowedByListeners: no listener of Gateway infra/shared admits HTTPRoutes from namespace app',
    });
    const unresolved = {
      type: 'ResolvedRefs',
      status: 'False',
      reason: 'BackendNotFound',
      message: 'Service app/web not found',
    };
    expect(routeVerdict(route([parent([accepted, unresolved])]))).toMatchObject({
      state: 'refused',
      reason: expect.stringContaining(
        'its backends do not resolve: BackendNotFound: Service app/web not found',
      ),
    });
  });
});

describe("a parent Gateway's Programmed condition (gateway-api v1.6.3 GatewayConditionType)", () => {
  const gateway = (conditions: unknown[]) =>
    ({ kind: 'Gateway', status: { conditions } }) as Parameters<typeof gatewayVerdict>[1];

  it('is ready once Programmed, waits while it is not said, fails with the reason when False', () => {
    expect(gatewayVerdict('infra/shared', gateway([{ type: 'Programmed', status: 'True' }]))).toEqual({
      state: 'accepted',
    });
    expect(gatewayVerdict('infra/shared', gateway([{ type: 'Accepted', status: 'True' }]))).toEqual({
      state: 'pending',
      waitingFor: 'Gateway infra/shared to be Programmed',
    });
    expect(
      gatewayVerdict(
        'infra/shared',
        gateway([
          { type: 'Programmed', status: 'False', reason: 'AddressNotAssigned', message: 'no address' },
        ]),
      ),
    ).toEqual({
      state: 'refused',
      reason: 'Gateway infra/shared is not Programmed: AddressNotAssigned: no address',
    });
    expect(gatewayVerdict('infra/gone', undefined)).toMatchObject({ state: 'refused' });
  });
});
