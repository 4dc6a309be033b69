import type { V1Node, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { checkLimitRanges, checkQuotas } from '../../src/kube/preflight/admission.js';
import { checkArchitecture } from '../../src/kube/preflight/architecture.js';
import { checkCapacity, rollingUpdate } from '../../src/kube/preflight/capacity.js';
import { checkIngressClasses } from '../../src/kube/preflight/ingress-class.js';
import { podRequests } from '../../src/kube/preflight/pods.js';
import { enforce } from '../../src/kube/preflight/preflight.js';
import { formatAmount, parseQuantity } from '../../src/kube/preflight/quantity.js';
import { checkReferences, referencesOf } from '../../src/kube/preflight/references.js';
import { eligibility, eligibleNodes, tolerates } from '../../src/kube/preflight/scheduling.js';
import { configPlatform, indexPlatforms } from '../../src/registry/platforms.js';

// The preflight checks' arithmetic and sentences on the objects the API server returns; the same checks run
// against the local control plane in test/kube/preflight.test.ts and end to end in test/e2e/preflight.test.ts.

function node(
  name: string,
  options: {
    arch?: string;
    cpu?: string;
    memory?: string;
    pods?: string;
    taints?: object[];
    labels?: Record<string, string>;
  } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: {
        'kubernetes.io/arch': options.arch ?? 'amd64',
        'kubernetes.io/os': 'linux',
        ...options.labels,
      },
    },
    spec: { taints: options.taints ?? [] },
    status: {
      allocatable: {
        cpu: options.cpu ?? '1900m',
        memory: options.memory ?? '4652372Ki',
        pods: options.pods ?? '30',
      },
    },
  } as V1Node;
}

function pod(nodeName: string, cpu: string, memory = '0'): V1Pod {
  return {
    metadata: { name: `p-${Math.random()}`, uid: String(Math.random()) },
    spec: { nodeName, containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] },
  } as V1Pod;
}

const spec = (cpu: string, memory: string, extra: Partial<V1PodSpec> = {}): V1PodSpec =>
  ({
    containers: [{ name: 'archetype', image: 'x', resources: { requests: { cpu, memory } } }],
    ...extra,
  }) as V1PodSpec;

describe('quantities', () => {
  it('parses and formats what kubectl shows', () => {
    expect(parseQuantity('250m')).toBe(0.25);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('128Mi')).toBe(128 * 2 ** 20);
    expect(parseQuantity('4652372Ki')).toBe(4652372 * 1024);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('12x')).toBeUndefined();
    expect(formatAmount('cpu', 1670)).toBe('1670m');
    expect(formatAmount('memory', 834 * 2 ** 20)).toBe('834Mi');
    expect(formatAmount('memory', 8 * 2 ** 30)).toBe('8Gi');
    expect(formatAmount('memory', 1.5 * 2 ** 30)).toBe('1.5Gi');
  });

  it('computes pod requests like the scheduler: limits default requests, init containers, overhead', () => {
    expect(
      podRequests({
        initContainers: [{ name: 'i', resources: { requests: { cpu: '1' } } }],
        containers: [
          { name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' } } },
          { name: 'b', resources: { limits: { cpu: '100m', memory: '32Mi' } } },
        ],
        overhead: { cpu: '10m' },
      } as V1PodSpec),
    ).toEqual({ cpu: 1010, memory: 96 * 2 ** 20 });
    // a LimitRange's defaultRequest fills what the container leaves unset
    expect(
      podRequests({ containers: [{ name: 'a' }] } as V1PodSpec, [
        {
          spec: {
            limits: [{ type: 'Container', defaultRequest: { cpu: '100m' }, default: { cpu: '200m' } }],
          },
        },
      ]),
    ).toEqual({ cpu: 100 });
  });
});

describe('eligible nodes', () => {
  const nodes = [
    node('amd-0'),
    node('arm-0', { arch: 'arm64' }),
    node('tainted', { taints: [{ key: 'archetype.test/preflight', value: 'true', effect: 'NoSchedule' }] }),
    { ...node('cordoned'), spec: { unschedulable: true } } as V1Node,
  ];

  it('follows nodeSelector, required node affinity, taints and cordons', () => {
    const names = (s: V1PodSpec) => eligibleNodes(s, nodes).map((n) => n.metadata?.name);
    expect(names(spec('1m', '1Mi'))).toEqual(['amd-0', 'arm-0']);
    expect(names(spec('1m', '1Mi', { nodeSelector: { 'kubernetes.io/arch': 'arm64' } }))).toEqual(['arm-0']);
    expect(
      names(
        spec('1m', '1Mi', {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'NotIn', values: ['arm64'] }] },
                ],
              },
            },
          },
        }),
      ),
    ).toEqual(['amd-0']);
    expect(
      names(
        spec('1m', '1Mi', {
          tolerations: [{ key: 'archetype.test/preflight', operator: 'Exists', effect: 'NoSchedule' }],
        }),
      ),
    ).toEqual(['amd-0', 'arm-0', 'tainted']);
    expect(eligibility(spec('1m', '1Mi'), nodes).map((e) => e.excluded)).toEqual([
      undefined,
      undefined,
      'taint archetype.test/preflight=true:NoSchedule not tolerated',
      'cordoned (spec.unschedulable)',
    ]);
  });

  it('matches tolerations as the API does', () => {
    const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', value: 'v' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', value: 'w' }, taint)).toBe(false);
    expect(tolerates({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
  });
});

describe('architecture', () => {
  it("names the image's platform, the nodes' architecture and the fix", () => {
    const [f] = checkArchitecture(
      'Deployment/archetype',
      'r/a@sha256:1',
      [{ os: 'linux', architecture: 'arm64' }],
      [node('aks-nodepool1-0'), node('aks-nodepool1-1')],
    );
    expect(f?.message).toBe(
      "Deployment/archetype: the image is linux/arm64 only; the nodes this Deployment can use are amd64 (aks-nodepool1-0, aks-nodepool1-1); build with platforms linux/amd64 (input 'platforms')",
    );
  });

  it('passes a matching image, and warns about a mixed pool', () => {
    expect(checkArchitecture('D/a', 'i', [{ os: 'linux', architecture: 'amd64' }], [node('a')])).toEqual([]);
    const [f] = checkArchitecture(
      'Deployment/a',
      'i',
      [{ os: 'linux', architecture: 'amd64' }],
      [node('a'), node('b', { arch: 'arm64' })],
    );
    expect(f?.message).toMatch(
      /1 of the 2 nodes this Deployment can use is arm64 \(b\), where its pods would not run \('exec format error'\)/,
    );
    expect(f?.message).toMatch(/build with platforms linux\/amd64,linux\/arm64/);
  });

  it('reads platforms from an index without its attestations, or from a config blob', () => {
    expect(
      indexPlatforms({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          {
            platform: { os: 'unknown', architecture: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
          },
        ],
      }),
    ).toEqual([{ os: 'linux', architecture: 'arm64', variant: 'v8' }]);
    expect(
      indexPlatforms({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {} }),
    ).toBeUndefined();
    expect(configPlatform({ os: 'linux', architecture: 'amd64' })).toEqual([
      { os: 'linux', architecture: 'amd64' },
    ]);
  });
});

describe('capacity', () => {
  const base = { workload: 'Deployment/archetype', replicas: 2, surge: 0 };

  it("gives the write-up's figures when a pod fits nowhere", () => {
    const n = node('aks-nodepool1-0');
    const [f] = checkCapacity({
      ...base,
      request: { cpu: 250, memory: 256 * 2 ** 20 },
      nodes: [{ node: n }],
      boundPods: [pod('aks-nodepool1-0', '1670m', '834Mi')],
    });
    expect(f?.message).toBe(
      'Deployment/archetype: each pod requests 250m CPU and 256Mi; the most free CPU on any eligible node is 230m (aks-nodepool1-0: 1900m allocatable, 1670m requested); lower the requests or add a node',
    );
    expect(f?.always).toBeUndefined();
  });

  it('counts the rolling update surge when old pods stay until new ones are ready', () => {
    const input = {
      ...base,
      request: { cpu: 100 },
      nodes: [{ node: node('n') }],
      boundPods: [pod('n', '1670m')],
    };
    expect(checkCapacity(input)).toEqual([]);
    const [f] = checkCapacity({ ...input, surge: 1 });
    expect(f?.message).toMatch(
      /^Deployment\/archetype needs room for 3 pods \(2 replicas \+ 1 more while the rolling update runs\) of 100m CPU each; the nodes it may use have room for 2 \(n: 2, 230m CPU free\); set maxUnavailable: 1/,
    );
    expect(rollingUpdate({ replicas: 2 })).toEqual({ surge: 1, unavailable: 0 });
    expect(
      rollingUpdate({ replicas: 2, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }),
    ).toEqual({
      surge: 0,
      unavailable: 1,
    });
  });

  it('is always an error when a pod is bigger than any node', () => {
    const [f] = checkCapacity({
      ...base,
      request: { cpu: 3000 },
      nodes: [{ node: node('n') }],
      boundPods: [],
    });
    expect(f?.always).toBe(true);
    expect(f?.message).toBe(
      'Deployment/archetype: each pod requests 3000m CPU, more than any node it may use can hold (the largest has 1900m CPU allocatable: n); lower the requests, or add a node pool with larger nodes',
    );
  });

  it('names why no node may run the pods', () => {
    const [f] = checkCapacity({
      ...base,
      request: { cpu: 1 },
      nodes: [{ node: node('a'), excluded: 'taint x:NoSchedule not tolerated' }],
      boundPods: [],
    });
    expect(f?.message).toBe(
      'Deployment/archetype: no node may run its pods (a: taint x:NoSchedule not tolerated); fix the nodeSelector, affinity or tolerations in the manifests, or add a node that matches',
    );
  });
});

describe('ingress class', () => {
  const ingress = {
    kind: 'Ingress',
    metadata: { name: 'archetype' },
    spec: { ingressClassName: 'webapprouting.kubernetes.azure.com' },
  };

  it('names the classes that exist and the AKS add-on that provides webapprouting', () => {
    const [f] = checkIngressClasses([ingress], [{ metadata: { name: 'nginx' } }], {
      resourceGroup: 'rg',
      clusterName: 'aks1',
    });
    expect(f?.message).toBe(
      "Ingress/archetype: spec.ingressClassName 'webapprouting.kubernetes.azure.com' is not an IngressClass in the cluster (the cluster has nginx); it is provided by the AKS application routing add-on: enable it with 'az aks approuting enable --resource-group rg --name aks1'",
    );
    expect(
      checkIngressClasses([ingress], [{ metadata: { name: 'webapprouting.kubernetes.azure.com' } }]),
    ).toEqual([]);
  });
});

describe('references', () => {
  const podSpec = {
    imagePullSecrets: [{ name: 'acr-pull' }],
    containers: [
      {
        name: 'app',
        env: [
          { name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
          { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'opt', key: 'x', optional: true } } },
        ],
        envFrom: [{ configMapRef: { name: 'settings' } }],
      },
    ],
    volumes: [{ name: 'certs', secret: { secretName: 'tls' } }],
  } as V1PodSpec;

  it('finds every reference and reports the missing ones and missing keys', () => {
    const refs = referencesOf(podSpec);
    expect(refs.map((r) => `${r.kind}/${r.name}${r.key ? `:${r.key}` : ''}${r.optional ? '?' : ''}`)).toEqual(
      ['Secret/acr-pull', 'Secret/db:url', 'ConfigMap/opt:x?', 'ConfigMap/settings', 'Secret/tls'],
    );
    const live: Record<string, { found: true; keys: string[]; type?: string }> = {
      'Secret/db': { found: true, keys: ['password'], type: 'Opaque' },
      'ConfigMap/settings': { found: true, keys: [] },
    };
    const findings = checkReferences(
      'Deployment/archetype',
      'ns',
      refs,
      (kind, name) => live[`${kind}/${name}`] ?? { found: false },
    );
    expect(findings.map((f) => f.message)).toEqual([
      "Deployment/archetype: imagePullSecrets names Secret 'acr-pull', which is neither in namespace 'ns' nor in the manifests; its pods could not pull a private image; create the Secret (type kubernetes.io/dockerconfigjson), or for ACR on AKS remove it and attach the registry to the cluster ('az aks update --attach-acr <registry>')",
      "Deployment/archetype: container app env DB refers to key 'url' of Secret 'db', which has only password; its pods would not start (CreateContainerConfigError); fix the key or add it to the Secret",
      "Deployment/archetype: volume certs refers to Secret 'tls', which is neither in namespace 'ns' nor in the manifests; its pods would not start (FailedMount); add it to the manifests or create it, or mark the reference optional: true",
    ]);
  });
});

describe('admission', () => {
  it('says which LimitRange limit a container breaks', () => {
    const findings = checkLimitRanges(
      'Deployment/archetype',
      {
        containers: [{ name: 'archetype', resources: { limits: { cpu: '500m', memory: '192Mi' } } }],
      } as V1PodSpec,
      [{ metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', max: { cpu: '200m' } }] } }],
    );
    expect(findings.map((f) => f.message)).toEqual([
      "Deployment/archetype: container archetype: LimitRange 'limits' allows at most 200m CPU per Container; its limit is 500m; the pods would be rejected (FailedCreate)",
    ]);
  });

  it('adds the rollout to what other pods use of a ResourceQuota, and requires the requests it tracks', () => {
    const quota = {
      metadata: { name: 'compute' },
      spec: { hard: { 'requests.cpu': '1' } },
      status: { hard: { 'requests.cpu': '1' }, used: { 'requests.cpu': '900m' } },
    };
    const input = {
      workload: 'Deployment/archetype',
      namespace: 'ns',
      spec: spec('250m', '64Mi'),
      pods: 3,
      ownPods: [spec('250m', '64Mi'), spec('250m', '64Mi')],
      created: {},
    };
    const [f] = checkQuotas(input, [quota], []);
    expect(f?.message).toBe(
      "Deployment/archetype: ResourceQuota 'compute' in namespace 'ns' allows requests.cpu 1000m; 400m is used by other objects and the rollout needs 3 × 250m = 750m; the pods would be rejected (exceeded quota); lower the requests or replicas, or raise the quota",
    );
    expect(checkQuotas({ ...input, pods: 2 }, [quota], [])).toEqual([]);
    const [must] = checkQuotas({ ...input, spec: { containers: [{ name: 'a' }] } as V1PodSpec }, [quota], []);
    expect(must?.message).toMatch(/limits requests.cpu, so every container must set resources.requests.cpu/);
  });

  it("does not ask containers for requests.storage, which a quota counts on claims (a preview's quota has it)", () => {
    const quota = {
      metadata: { name: 'archetype-deploy-preview-quota' },
      spec: { hard: { 'requests.storage': '10Gi', 'requests.cpu': '1' } },
      status: { hard: { 'requests.storage': '10Gi', 'requests.cpu': '1' }, used: {} },
    };
    const input = {
      workload: 'Deployment/archetype',
      namespace: 'ns',
      spec: spec('250m', '64Mi'),
      pods: 2,
      ownPods: [],
      created: {},
    };
    expect(checkQuotas(input, [quota], [])).toEqual([]);
  });

  it('counts the objects the apply creates against a count quota once, for the set, not its pods', () => {
    const quota = {
      metadata: { name: 'objects' },
      spec: { hard: { configmaps: '3' } },
      status: { hard: { configmaps: '3' }, used: { configmaps: '2' } },
    };
    const input = {
      workload: 'Deployment/archetype',
      namespace: 'ns',
      spec: spec('250m', '64Mi'),
      pods: 2,
      ownPods: [],
      created: { configmaps: 2 },
    };
    expect(checkQuotas(input, [quota], []).map((f) => f.message)).toEqual([
      "the set: ResourceQuota 'objects' in namespace 'ns' allows configmaps 3; 2 is used by other objects and the apply creates 2; the last of them would be refused midway (exceeded quota); remove objects from the manifests or raise the quota",
    ]);
    expect(checkQuotas({ ...input, created: { configmaps: 1 } }, [quota], [])).toEqual([]);
  });
});

describe('enforce', () => {
  const found = { findings: [{ check: 'capacity' as const, message: 'too big' }], skipped: [] };

  it('throws in error mode, naming the findings and that nothing was applied', () => {
    expect(() => enforce(found, 'error')).toThrow(
      "Preflight found 1 problem; nothing was applied:\n- capacity: too big\n(input 'preflight: warn' lets the deploy go on with warnings)",
    );
  });

  it('warns in warn mode, except for what is always an error', () => {
    const warnings: string[] = [];
    const log = { info() {}, notice() {}, warning: (m: string) => warnings.push(m) };
    enforce(found, 'warn', log);
    expect(warnings).toEqual(["preflight (capacity, a warning by input 'preflight: warn'): too big"]);
    expect(() =>
      enforce({ findings: [{ check: 'capacity', message: 'huge', always: true }], skipped: [] }, 'warn', log),
    ).toThrow(/huge/);
  });
});
