import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { frontDoorAdvice, frontDoorOf, getThrough, routes } from '../../src/kube/reach/front-door.js';
import { parentGateways, routeDoorOf } from '../../src/kube/reach/front-door-route.js';

// Where the front-door smoke GET goes (pure, from the Ingress as the cluster has it) and what one GET answers.

type Ingress = Parameters<typeof frontDoorOf>[0];
const ingress = (
  rules: NonNullable<Ingress['spec']>['rules'],
  status: Ingress['status'] = { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } },
): Ingress => ({
  kind: 'Ingress',
  metadata: { name: 'web' },
  spec: { ingressClassName: 'webapprouting.kubernetes.azure.com', rules },
  status,
});
const rule = (host: string, path: string, pathType: string, service: string) => ({
  host,
  http: { paths: [{ path, pathType, backend: { service: { name: service, port: { name: 'http' } } } }] },
});

describe('front door', () => {
  it('reads Ingress path types as Kubernetes does', () => {
    expect(routes('Prefix', '/', '/healthz')).toBe(true);
    expect(routes('Prefix', '/api/', '/api')).toBe(true);
    expect(routes('Prefix', '/api', '/apix')).toBe(false);
    expect(routes('Exact', '/api', '/api/')).toBe(false);
    expect(routes('ImplementationSpecific', '/api', '/api/v1?x=1')).toBe(true);
  });

  it('sends the rule host to the address in the status, at its port when one is listed', () => {
    const door = frontDoorOf(
      ingress([rule('a.example.com', '/', 'Prefix', 'web')], {
        loadBalancer: { ingress: [{ ip: '127.0.0.1', ports: [{ port: 8080, protocol: 'TCP' }] }] },
      }),
      new Set(['web']),
      '/healthz',
    );
    expect(door).toEqual({
      via: 'Ingress/web',
      host: 'a.example.com',
      path: '/healthz',
      scheme: 'http',
      address: '127.0.0.1',
      port: 8080,
      service: 'web',
    });
  });

  it('says why there is no door: no address yet, or no rule to a checked Service', () => {
    expect(
      frontDoorOf(ingress([rule('a.example.com', '/', 'Prefix', 'web')], {}), new Set(['web']), '/'),
    ).toMatch(/has no address yet/);
    expect(
      frontDoorOf(ingress([rule('a.example.com', '/api', 'Prefix', 'web')]), new Set(['web']), '/'),
    ).toBe('Ingress/web has no rule that routes / to Service/web');
  });

  it('names the fix by what answered', () => {
    const door = {
      via: 'Ingress/web',
      host: 'a.example.com',
      path: '/',
      scheme: 'http' as const,
      address: '10.0.0.9',
      port: 80,
      service: 'web',
    };
    expect(frontDoorAdvice(door, 404, 'nginx')).toMatch(/matched no rule.*ingressClassName nginx/);
    expect(frontDoorAdvice(door, 503, '')).toMatch(/reached no ready pod.*port/);
    expect(frontDoorAdvice(door, undefined, '')).toMatch(/smoke-front-door: false/);
  });

  describe('getThrough', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((req, res) => res.end(JSON.stringify({ host: req.headers.host, url: req.url })));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('asks the address with the rule host in the Host header', async () => {
      const answer = await getThrough(
        {
          via: 'Ingress/web',
          host: 'a.example.com',
          path: '/x',
          scheme: 'http',
          address: '127.0.0.1',
          port,
          service: 'web',
        },
        5000,
      );
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ host: 'a.example.com', url: '/x' });
    });
  });
});

describe('front door of an HTTPRoute', () => {
  const route = (rules: unknown[], hostnames = ['shop.example.com']) =>
    ({
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: 'app' },
      spec: { parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }], hostnames, rules },
    }) as Parameters<typeof routeDoorOf>[0];
  const gateway = (addresses: { value: string }[]) =>
    new Map([
      [
        'infra/shared',
        {
          kind: 'Gateway',
          metadata: { name: 'shared', namespace: 'infra' },
          spec: {
            listeners: [
              { name: 'https', port: 443, protocol: 'HTTPS' },
              { name: 'http', port: 8080, protocol: 'HTTP' },
            ],
          },
          status: { addresses },
        },
      ],
    ]) as Parameters<typeof routeDoorOf>[1];

  it("goes to the Gateway's address, at the port of the listener the route attaches to, with its hostname", () => {
    const door = routeDoorOf(
      route([{ backendRefs: [{ name: 'web', port: 80 }] }]),
      gateway([{ value: '127.0.0.2' }]),
      new Set(['web']),
      '/healthz',
    );
    expect(door).toEqual({
      via: 'HTTPRoute/web (Gateway infra/shared)',
      host: 'shop.example.com',
      path: '/healthz',
      scheme: 'http',
      address: '127.0.0.2',
      port: 8080,
      service: 'web',
    });
    expect(parentGateways(route([]))).toEqual([{ namespace: 'infra', name: 'shared' }]);
  });

  it('skips rules the smoke GET cannot meet, and says when the Gateway has no address', () => {
    const headerOnly = route([
      { matches: [{ headers: [{ name: 'x', value: '1' }] }], backendRefs: [{ name: 'web', port: 80 }] },
      { matches: [{ path: { type: 'Exact', value: '/other' } }], backendRefs: [{ name: 'web', port: 80 }] },
    ]);
    expect(routeDoorOf(headerOnly, gateway([{ value: '127.0.0.2' }]), new Set(['web']), '/')).toBe(
      'HTTPRoute/web has no rule that sends GET / to Service/web',
    );
    expect(
      routeDoorOf(route([{ backendRefs: [{ name: 'web', port: 80 }] }]), gateway([]), new Set(['web']), '/'),
    ).toBe("HTTPRoute/web's Gateway has no address yet (its controller writes one)");
  });
});
