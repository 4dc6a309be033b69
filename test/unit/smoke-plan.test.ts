import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { adviceFor, type CheckContext, seenOf } from '../../src/kube/reach/smoke-cause.js';
import { nonHttpReason, smokeAnnotationProblems, smokePlan } from '../../src/kube/reach/smoke-plan.js';
import { smokeCheckAnnotation, smokePathAnnotation } from '../../src/names.js';

// Which smoke check each Service gets, and the fix a failure names. The non-HTTP rule follows Kubernetes'
// ServicePort.appProtocol (IANA names, kubernetes.io/h2c|ws|wss, domain-prefixed names) and Istio's explicit
// protocol selection by port name, `<protocol>[-<suffix>]`
// (istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection).

const defaults = { enabled: true, path: '/' };

function svc(ports: V1ServicePort[], annotations?: Record<string, string>, spec: object = {}): V1Service {
  return {
    metadata: { name: 'web', ...(annotations ? { annotations } : {}) },
    spec: { selector: { app: 'web' }, ports, ...spec },
  };
}

describe('smokePlan', () => {
  it('GETs the input path on the port named http, else the first port that speaks HTTP', () => {
    expect(
      smokePlan(
        svc([
          { name: 'metrics', port: 9090 },
          { name: 'http', port: 80, targetPort: 'http' },
        ]),
        defaults,
      ),
    ).toEqual({ kind: 'http', path: '/', port: 80, targetPort: 'http', scheme: 'http', pathFrom: 'input' });
    // a gRPC port first: the HTTP one after it is the one checked
    expect(
      smokePlan(
        svc([
          { name: 'grpc', port: 9000 },
          { name: 'web', port: 8080, targetPort: 8080 },
        ]),
        { enabled: true, path: '/healthz' },
      ),
    ).toMatchObject({ kind: 'http', path: '/healthz', port: 8080, targetPort: 8080 });
    // no name, no appProtocol: HTTP, as before
    expect(smokePlan(svc([{ port: 80 }]), defaults)).toMatchObject({
      kind: 'http',
      port: 80,
      targetPort: 80,
    });
  });

  it('uses https through the proxy for a port that says https', () => {
    expect(smokePlan(svc([{ name: 'https', port: 443 }]), defaults)).toMatchObject({ scheme: 'https' });
    expect(smokePlan(svc([{ name: 'api', port: 8443, appProtocol: 'HTTPS' }]), defaults)).toMatchObject({
      scheme: 'https',
    });
  });

  it('checks only the ready endpoints of a Service none of whose ports speaks HTTP', () => {
    const cases: [V1ServicePort, string][] = [
      [{ name: 'grpc', port: 9000 }, "port 'grpc' (9000) is named for grpc"],
      [{ name: 'grpc-web', port: 9001 }, "port 'grpc-web' (9001) is named for grpc"],
      [{ name: 'tcp-cache', port: 6379 }, "port 'tcp-cache' (6379) is named for tcp"],
      [{ name: 'redis', port: 6379 }, "port 'redis' (6379) is named for redis"],
      [{ name: 'postgres', port: 5432 }, "port 'postgres' (5432) is named for postgres"],
      [{ name: 'amqp', port: 5672 }, "port 'amqp' (5672) is named for amqp"],
      [{ name: 'kafka-broker', port: 9092 }, "port 'kafka-broker' (9092) is named for kafka"],
      [{ name: 'http2', port: 8081 }, "port 'http2' (8081) is named for http2"],
      [{ port: 9000, appProtocol: 'grpc' }, "port 9000 has appProtocol 'grpc'"],
      [
        { name: 'api', port: 8080, appProtocol: 'kubernetes.io/h2c' },
        "port 'api' (8080) has appProtocol 'kubernetes.io/h2c'",
      ],
      [
        { name: 'live', port: 8080, appProtocol: 'kubernetes.io/ws' },
        "port 'live' (8080) has appProtocol 'kubernetes.io/ws'",
      ],
      [
        { name: 'x', port: 7000, appProtocol: 'example.com/custom' },
        "port 'x' (7000) has appProtocol 'example.com/custom'",
      ],
      [{ name: 'dns', port: 53, protocol: 'UDP' }, "port 'dns' (53) is UDP"],
    ];
    expect(cases.length).toBeGreaterThan(0);
    for (const [port, reason] of cases)
      expect(smokePlan(svc([port]), defaults)).toEqual({
        kind: 'endpoints',
        reason: `no port speaks HTTP: ${reason}`,
      });
  });

  it('takes appProtocol over the port name, and names that only start like a protocol as HTTP', () => {
    // appProtocol http on a port named tcp: HTTP (appProtocol is the field Kubernetes defines)
    expect(nonHttpReason({ name: 'tcp', port: 80, appProtocol: 'http' })).toBeUndefined();
    // Istio's rule is <protocol>[-<suffix>]: 'tcpx' and 'my-grpc' name no protocol
    expect(nonHttpReason({ name: 'tcpx', port: 80 })).toBeUndefined();
    expect(nonHttpReason({ name: 'my-grpc', port: 80 })).toBeUndefined();
    expect(nonHttpReason({ name: 'http-api', port: 80 })).toBeUndefined();
  });

  it("uses the Service's annotation path over the input, even on a port that is not HTTP", () => {
    expect(
      smokePlan(svc([{ name: 'http', port: 80 }], { [smokePathAnnotation]: '/healthz' }), defaults),
    ).toEqual({
      kind: 'http',
      path: '/healthz',
      port: 80,
      targetPort: 80,
      scheme: 'http',
      pathFrom: 'annotation',
    });
    expect(
      smokePlan(
        svc([{ name: 'api', port: 8080, appProtocol: 'kubernetes.io/h2c' }], { [smokePathAnnotation]: '/' }),
        defaults,
      ),
    ).toMatchObject({ kind: 'http', port: 8080, pathFrom: 'annotation' });
  });

  it('turns the check off for one Service by annotation, and on for one when the input is off', () => {
    expect(
      smokePlan(svc([{ name: 'http', port: 80 }], { [smokeCheckAnnotation]: 'false' }), defaults),
    ).toEqual({
      kind: 'off',
      reason: `annotation ${smokeCheckAnnotation} is "false"`,
    });
    const off = { enabled: false, path: '/' };
    expect(smokePlan(svc([{ name: 'http', port: 80 }]), off)).toMatchObject({ kind: 'off' });
    expect(
      smokePlan(svc([{ name: 'http', port: 80 }], { [smokeCheckAnnotation]: 'true' }), off),
    ).toMatchObject({
      kind: 'http',
      port: 80,
    });
  });

  it('does not GET a Service without a selector (ExternalName, endpoints of its own)', () => {
    expect(smokePlan(svc([{ port: 80 }], undefined, { selector: undefined }), defaults)).toMatchObject({
      kind: 'off',
    });
    expect(
      smokePlan(svc([], undefined, { type: 'ExternalName', externalName: 'db.example.com' }), defaults),
    ).toMatchObject({ kind: 'off', reason: 'it is an ExternalName Service' });
  });

  it('refuses an annotation with a bad value, naming it and the values it takes', () => {
    expect(
      smokeAnnotationProblems({ [smokeCheckAnnotation]: 'no', [smokePathAnnotation]: 'healthz' }),
    ).toEqual([
      `metadata.annotations['${smokeCheckAnnotation}'] is "no"; it takes "false" (no smoke check for this Service) or "true" (checked even with input smoke-check false)`,
      `metadata.annotations['${smokePathAnnotation}'] is "healthz", not a URL path: start it with / and use no spaces, e.g. /healthz`,
    ]);
    expect(() => smokePlan(svc([{ port: 80 }], { [smokeCheckAnnotation]: 'off' }), defaults)).toThrow(
      /^Service\/web: metadata.annotations\['archetype-deploy.github.io\/smoke-check'\] is "off"/,
    );
    expect(smokeAnnotationProblems({ [smokePathAnnotation]: '/healthz?full=1' })).toEqual([]);
  });
});

describe('the cause a failed smoke check names', () => {
  const context: CheckContext = {
    service: 'web',
    namespace: 'shop',
    path: '/',
    pathFrom: 'input',
    port: 80,
    targetPort: 'http',
    selector: { 'app.kubernetes.io/name': 'web' },
    expectedRevision: 'abc',
  };
  // the answers as the API server gives them (k8s.io/apiserver's service proxy; the Status of a missing Service)
  const noEndpoints = seenOf({
    status: 503,
    reason: 'ServiceUnavailable',
    message: 'no endpoints available for service "web"',
  });
  const refused = seenOf({
    status: 503,
    reason: 'ServiceUnavailable',
    message: 'error trying to reach service: dial tcp 10.244.0.7:8000: connect: connection refused',
  });

  it('404 → the path: input smoke-path, or the annotation, with the path tried', () => {
    const seen = seenOf({ status: 404, reason: 'Error', message: 'Cannot GET /' });
    expect(seen).toEqual({ kind: 'not found' });
    const advice = adviceFor(seen, context);
    expect(advice).toContain('The app has no /');
    expect(advice).toContain('input smoke-path');
    expect(advice).toContain(smokePathAnnotation);
    expect(advice).not.toMatch(/REVISION/);
    expect(adviceFor(seen, { ...context, path: '/health', pathFrom: 'annotation' })).toBe(
      `The app has no /health: fix the Service's annotation ${smokePathAnnotation} (/health) to a path it serves, e.g. /healthz.`,
    );
  });

  it('503 no endpoints → the selector, named', () => {
    expect(noEndpoints).toEqual({ kind: 'no endpoints' });
    expect(adviceFor(noEndpoints, context)).toBe(
      "No ready pod backs Service/web: its selector app.kubernetes.io/name=web matches no ready pod in namespace 'shop'; check the selector against the pod template's labels and the pods' readiness.",
    );
  });

  it('another revision → the REVISION build argument', () => {
    const advice = adviceFor({ kind: 'revision', revision: 'old' }, context);
    expect(advice).toMatch(
      /^Pods answering \/ run revision old, not abc: build the image with --build-arg REVISION=<commit>/,
    );
    expect(advice).toContain(
      "Service/web's selector app.kubernetes.io/name=web selects only this release's pods",
    );
  });

  it('unreachable endpoint or 5xx → the targetPort and the app; a 403 on services/proxy → the role', () => {
    expect(refused).toEqual({ kind: 'unreachable', refused: true });
    expect(adviceFor(refused, context)).toBe(
      "Nothing listens on targetPort http (port 80) in the pods of Service/web: check that targetPort is the app's containerPort (or its name) and that the app listens on all addresses (0.0.0.0, not 127.0.0.1).",
    );
    // a dial that gets no answer: a NetworkPolicy, or a simulated node's pod (the local target's egress: 403)
    const dropped = seenOf({
      status: 503,
      reason: 'ServiceUnavailable',
      message: 'error trying to reach service: dial tcp 10.244.1.5:8000: i/o timeout',
    });
    expect(dropped).toEqual({ kind: 'unreachable', refused: false });
    expect(adviceFor(dropped, context)).toMatch(/NetworkPolicy .* \(kwok, simulated nodes\)/);
    const failing = seenOf({ status: 500, reason: 'Error', message: 'boom' });
    expect(failing).toEqual({ kind: 'status', status: 500 });
    expect(adviceFor(failing, context)).toMatch(
      /^The app answered 500 to GET \/ on targetPort http \(port 80\)/,
    );
    const forbidden = seenOf({
      status: 403,
      reason: 'Forbidden',
      message:
        'services "web:80" is forbidden: User "x" cannot get resource "services/proxy" in API group "" in the namespace "shop"',
    });
    expect(forbidden.kind).toBe('forbidden');
    expect(adviceFor(forbidden, context)).toMatch(/may not GET services\/proxy/);
    // a pod's own 403 is the app's answer
    expect(seenOf({ status: 403, reason: 'Error', message: 'denied' })).toEqual({
      kind: 'status',
      status: 403,
    });
    expect(seenOf({ status: 404, reason: 'NotFound', message: 'services "web" not found' })).toEqual({
      kind: 'no service',
    });
    expect(seenOf({ message: 'The operation was aborted due to timeout' }).kind).toBe('no answer');
  });
});
