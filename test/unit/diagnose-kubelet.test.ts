import type {
  CoreV1Event,
  V1ContainerStatus,
  V1Deployment,
  V1Node,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { diagnosisMarkdown } from '../../src/github/diagnosis-markdown.js';
import { buildDiagnosis, type DiagnosisInput, diagnosisLines } from '../../src/kube/diagnosis/diagnose.js';
import {
  classifyPull,
  lastCause,
  parseProbeFailure,
  signalOf,
} from '../../src/kube/diagnosis/kubelet-messages.js';
import { templateDiff } from '../../src/kube/manifests/template-diff.js';

// Diagnosis of what a real kubelet reports (kwok nodes report none of it): Pod statuses and Events in the
// shapes the kubelet and containerd write them (pkg/kubelet/images/image_manager.go "Failed to pull image",
// containerd's resolver errors, runc's "exec format error", the prober's "Readiness probe failed: ...").

const oldImage = `myacr.azurecr.io/archetype@sha256:${'a'.repeat(64)}`;
const newImage = `myacr.azurecr.io/archetype@sha256:${'b'.repeat(64)}`;
const ns = 'archetype';

function template(
  image: string,
  extra: { env?: { name: string; value: string }[]; cpu?: string; fail?: string } = {},
) {
  return {
    metadata: {
      labels: { 'app.kubernetes.io/name': 'archetype' },
      ...(extra.fail ? { annotations: { 'archetype.local/fail': extra.fail } } : {}),
    },
    spec: {
      containers: [
        {
          name: 'archetype',
          image,
          env: [{ name: 'PORT', value: '8000' }, ...(extra.env ?? [])],
          ports: [{ name: 'http', containerPort: 8000 }],
          resources: { requests: { cpu: extra.cpu ?? '50m', memory: '96Mi' }, limits: { memory: '192Mi' } },
          readinessProbe: {
            httpGet: { path: '/readyz', port: 'http' },
            periodSeconds: 5,
            failureThreshold: 1,
          },
        },
      ],
    },
  };
}

const newTemplate = template(newImage, {
  env: [{ name: 'DATABASE_URL', value: 'postgres://db' }],
  cpu: '100m',
});

function input(
  status: V1ContainerStatus,
  events: Record<string, unknown>[],
  extra: Partial<DiagnosisInput> = {},
): DiagnosisInput {
  const deployment = {
    metadata: {
      name: 'archetype',
      namespace: ns,
      uid: 'd-uid',
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'archetype' } },
      template: newTemplate,
    },
  } as unknown as V1Deployment;
  const rs = (name: string, revision: number, t: object, ready: number) =>
    ({
      metadata: {
        name,
        uid: `${name}-uid`,
        labels: { 'app.kubernetes.io/name': 'archetype', 'pod-template-hash': name.split('-').pop() },
        annotations: { 'deployment.kubernetes.io/revision': String(revision) },
      },
      spec: { replicas: 2, template: t },
      status: { replicas: 2, readyReplicas: ready },
    }) as unknown as V1ReplicaSet;
  const pod = {
    metadata: {
      name: 'archetype-new-x1',
      uid: 'pod-uid',
      labels: { 'app.kubernetes.io/name': 'archetype', 'pod-template-hash': 'new' },
    },
    spec: { ...newTemplate.spec, nodeName: 'aks-nodepool1-0' },
    status: {
      phase: status.state?.waiting?.reason?.includes('Image') ? 'Pending' : 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [status],
    },
  } as unknown as V1Pod;
  return {
    namespace: ns,
    name: 'archetype',
    deployment,
    replicaSets: [rs('archetype-old', 2, template(oldImage), 2), rs('archetype-new', 3, newTemplate, 0)],
    pods: [pod],
    events: events.map(
      (e, i) =>
        ({
          metadata: { name: `e${i}` },
          involvedObject: { kind: 'Pod', uid: 'pod-uid', fieldPath: 'spec.containers{archetype}' },
          type: 'Warning',
          count: 1,
          firstTimestamp: '2026-01-01T10:00:00Z',
          lastTimestamp: '2026-01-01T10:00:00Z',
          ...e,
        }) as unknown as CoreV1Event,
    ),
    ...extra,
  };
}

const waiting = (reason: string, message = ''): V1ContainerStatus =>
  ({
    name: 'archetype',
    image: newImage,
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  }) as V1ContainerStatus;

const serving = '; revision 2 is still serving (2 of 2 pods ready).';

describe('image pull failures, as the kubelet reports them', () => {
  it('a digest the registry does not have: not found, with the reference', () => {
    const error = `failed to pull and unpack image "${newImage}": failed to resolve reference "${newImage}": ${newImage}: not found`;
    const d = buildDiagnosis(
      input(waiting('ErrImagePull', error), [
        {
          reason: 'Failed',
          message: `Failed to pull image "${newImage}": rpc error: code = NotFound desc = ${error}`,
        },
        { reason: 'Failed', message: 'Error: ErrImagePull' },
        { reason: 'BackOff', type: 'Normal', message: `Back-off pulling image "${newImage}"` },
      ]),
    );
    expect(d.summary).toBe(
      `Deployment archetype revision 3 failed: pod archetype-new-x1 cannot pull image ${newImage} (ErrImagePull): the registry has no such tag or digest (${newImage}: not found); push the image or fix its reference in the manifests${serving}`,
    );
  });

  it('ACR refusing the kubelet: unauthorized, and how to attach the registry', () => {
    const error = `failed to pull and unpack image "${newImage}": failed to resolve reference "${newImage}": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://myacr.azurecr.io/oauth2/token?scope=repository%3Aarchetype%3Apull&service=myacr.azurecr.io: 401 Unauthorized`;
    const d = buildDiagnosis(
      input(waiting('ImagePullBackOff', `Back-off pulling image "${newImage}"`), [
        { reason: 'Failed', message: `Failed to pull image "${newImage}": ${error}` },
      ]),
      { aks: { resourceGroup: 'rg', clusterName: 'aks1' } },
    );
    expect(d.summary).toMatch(
      /cannot pull image \S+ \(ImagePullBackOff\): the registry refused the node's pull \(.*401 Unauthorized\); the cluster's kubelet identity lacks AcrPull on myacr: attach the registry with 'az aks update --resource-group rg --name aks1 --attach-acr myacr'; revision 2 is still serving/,
    );
  });

  it('anything else, with the message', () => {
    const d = buildDiagnosis(
      input(waiting('ErrImagePull'), [
        {
          reason: 'Failed',
          message: `Failed to pull image "${newImage}": rpc error: code = Unknown desc = failed to pull and unpack image "${newImage}": failed to resolve reference "${newImage}": failed to do request: Head "https://myacr.azurecr.io/v2/archetype/manifests/sha256:bbbb": dial tcp: lookup myacr.azurecr.io on 10.0.0.10:53: no such host`,
        },
      ]),
    );
    expect(d.summary).toMatch(
      /\(ErrImagePull\): the node cannot reach the registry \(.*no such host\); check the nodes' DNS, outbound network and trust of myacr\.azurecr\.io; revision 2/,
    );
    expect(classifyPull(['Failed to pull image "x": failed to unpack: layer corrupted'])).toEqual({
      kind: 'unknown',
      detail: 'failed to unpack: layer corrupted',
    });
  });
});

describe('crashes', () => {
  const crashing = (last: object): V1ContainerStatus =>
    ({
      ...waiting(
        'CrashLoopBackOff',
        'back-off 40s restarting failed container=archetype pod=archetype-new-x1_archetype(pod-uid)',
      ),
      restartCount: 4,
      lastState: { terminated: last },
    }) as V1ContainerStatus;

  it('OOMKilled, with the memory limit', () => {
    const d = buildDiagnosis(input(crashing({ reason: 'OOMKilled', exitCode: 137 }), []));
    expect(d.summary).toBe(
      `Deployment archetype revision 3 failed: container archetype in pod archetype-new-x1 was killed for using more than its memory limit of 192Mi (OOMKilled, exit code 137 (SIGKILL), 4 restarts); raise resources.limits.memory or lower its use${serving}`,
    );
  });

  it("exit code and the last line of the previous container's log", () => {
    const logs = new Map([
      ['archetype-new-x1/archetype', { lines: ['starting', 'Error: PORT must be set'] }],
    ]);
    const d = buildDiagnosis({ ...input(crashing({ reason: 'Error', exitCode: 1 }), []), logs });
    expect(d.summary).toMatch(
      /keeps crashing \(Error, exit code 1, 4 restarts\); its log ends with "Error: PORT must be set"; fix the start-up error/,
    );
    expect(diagnosisLines(d)).toContain('      | Error: PORT must be set');
  });

  it('a signal', () => {
    const d = buildDiagnosis(input(crashing({ reason: 'Error', exitCode: 143 }), []));
    expect(d.summary).toMatch(/\(Error, exit code 143 \(SIGTERM\), 4 restarts\); it was ended by SIGTERM;/);
    expect(signalOf(139)).toBe('SIGSEGV');
    expect(signalOf(1)).toBeUndefined();
  });

  it('"exec format error" in the log or from the runtime becomes the architecture message', () => {
    const node = {
      metadata: {
        name: 'aks-nodepool1-0',
        labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux' },
      },
    } as V1Node;
    const nodes = new Map([['aks-nodepool1-0', node]]);
    const fromLog = buildDiagnosis({
      ...input(crashing({ reason: 'Error', exitCode: 255 }), []),
      logs: new Map([
        ['archetype-new-x1/archetype', { lines: ['exec /usr/local/bin/node: exec format error'] }],
      ]),
      nodes,
    });
    expect(fromLog.summary).toBe(
      `Deployment archetype revision 3 failed: container archetype in pod archetype-new-x1 cannot run its program: exec format error, the image is built for another architecture than node aks-nodepool1-0 (linux/amd64); build with platforms linux/amd64 (input 'platforms')${serving}`,
    );
    const fromRuntime = buildDiagnosis({
      ...input(
        crashing({
          reason: 'StartError',
          exitCode: 128,
          message:
            'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/server": exec format error: unknown',
        }),
        [],
      ),
      nodes,
    });
    expect(fromRuntime.summary).toContain('cannot run its program: exec format error');
  });
});

describe('never ready', () => {
  const running = {
    name: 'archetype',
    image: newImage,
    imageID: '',
    ready: false,
    restartCount: 0,
    started: true,
    state: { running: { startedAt: '2026-01-01T09:59:55Z' } },
  } as unknown as V1ContainerStatus;

  it("the readiness probe's failure from the events, and how long it has failed", () => {
    const d = buildDiagnosis(
      input(running, [
        {
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          count: 9,
          firstTimestamp: '2026-01-01T10:00:00Z',
          lastTimestamp: '2026-01-01T10:00:40Z',
        },
      ]),
    );
    expect(d.summary).toBe(
      `Deployment archetype revision 3 failed: container archetype in pod archetype-new-x1 runs but never becomes ready; its readiness probe (HTTP GET /readyz on port http every 5s, failing after 1) failed 9 times over 40s (HTTP probe failed with statuscode: 503); make the endpoint answer 2xx once the app is up, or fix the probe's path and port${serving}`,
    );
    expect(
      parseProbeFailure(
        'Readiness probe failed: Get "http://10.244.1.7:8000/readyz": dial tcp 10.244.1.7:8000: connect: connection refused',
      ),
    ).toEqual({
      probe: 'Readiness',
      detail: 'Get "http://10.244.1.7:8000/readyz": dial tcp 10.244.1.7:8000: connect: connection refused',
    });
  });

  it('without probe events, how long it has run unready', () => {
    const d = buildDiagnosis({ ...input(running, []), now: new Date('2026-01-01T10:00:40Z') });
    expect(d.summary).toMatch(
      /runs but never becomes ready; check its readiness probe \(HTTP GET \/readyz on port http every 5s, failing after 1\): it has not passed in 45s of running and the kubelet reported no probe failure/,
    );
  });
});

describe('what changed', () => {
  it('lists the template difference between the previous and the new ReplicaSet, in the log and the summary', () => {
    const d = buildDiagnosis(input(waiting('ErrImagePull'), []));
    expect(d.previousRevision).toBe(2);
    expect(d.changes).toEqual([
      { field: 'container archetype image', before: oldImage, after: newImage },
      { field: 'container archetype env', before: '(none)', after: 'DATABASE_URL (added)' },
      { field: 'container archetype resources.requests.cpu', before: '50m', after: '100m' },
    ]);
    expect(diagnosisLines(d)).toEqual(
      expect.arrayContaining([
        '  what changed from revision 2:',
        '    container archetype env: (none) -> DATABASE_URL (added)',
      ]),
    );
    expect(diagnosisMarkdown(d)).toContain('| container archetype resources.requests.cpu | 50m | 100m |');
  });

  it('names probes, commands, annotations and other pod fields', () => {
    const a = template(oldImage);
    const b = structuredClone(template(oldImage, { fail: 'NotReady' })) as ReturnType<typeof template> & {
      spec: {
        containers: { command?: string[]; readinessProbe: { httpGet: { path: string } } }[];
        serviceAccountName?: string;
      };
    };
    const [c] = b.spec.containers;
    if (!c) throw new Error('no container');
    c.readinessProbe.httpGet.path = '/ready';
    c.command = ['node', 'dist/main.js'];
    b.spec.serviceAccountName = 'archetype';
    expect(templateDiff(a, b).map((x) => `${x.field}: ${x.before} -> ${x.after}`)).toEqual([
      'pod annotation archetype.local/fail: (none) -> NotReady',
      'container archetype command: (none) -> ["node","dist/main.js"]',
      'container archetype readinessProbe: HTTP GET /readyz on port http every 5s, failing after 1 -> HTTP GET /ready on port http every 5s, failing after 1',
      'pod spec.serviceAccountName: (none) -> "archetype"',
    ]);
  });
});

describe('kubelet messages', () => {
  it('keeps the reference with a short cause', () => {
    expect(lastCause(`failed to resolve reference "${newImage}": ${newImage}: not found`)).toBe(
      `${newImage}: not found`,
    );
  });
});
