// The local deploy target (scripts/local-stack) end to end, against the real parts: Docker engine +
// buildx, the authenticated registry (Docker Registry HTTP API V2 / OCI distribution spec), and the
// Kubernetes control plane with kwok nodes. Brings the stack up (or finds it up) itself.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  type V1Deployment,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { deployment as fixtureDeployment } from '../helpers/fixtures.js';
import { stackUp } from '../helpers/stack.js';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
const fieldManager = 'local-target-test';

/** Poll check() until it returns a value, at most timeoutMs; the error names what was awaited and the last state. */
async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  describe: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: ${await describe()}`);
}

let env: Record<string, string>;
let childEnv: NodeJS.ProcessEnv;
let dockerConfig: string;
let kc: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;
let discovery: DiscoveryV1Api;
let objects: KubernetesObjectApi;
const namespaces: string[] = [];
const suffix = randomBytes(3).toString('hex');

async function docker(args: string[], input?: string): Promise<string> {
  const child = run('docker', args, { env: childEnv, maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

function basicAuth(): string {
  return `Basic ${Buffer.from(`${env.REGISTRY_USERNAME}:${env.REGISTRY_PASSWORD}`).toString('base64')}`;
}

const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

async function registryGet(path: string, accept = manifestTypes): Promise<Response> {
  return fetch(`http://${env.REGISTRY}/v2/${path}`, {
    headers: { Authorization: basicAuth(), Accept: accept },
    signal: AbortSignal.timeout(10_000),
  });
}

/**
 * Build the archetype image from service/Dockerfile (or a tiny Dockerfile when the service has none) on
 * the local base image, push it, and return its digest from buildx's metadata file.
 */
async function buildAndPush(tag: string, revision: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'local-target-build-'));
  try {
    // The service's own Dockerfile when it exists; else a tiny one, so the stack can be tested alone.
    const useService = existsSync(join(repo, 'service/Dockerfile'));
    const context = useService ? join(repo, 'service') : work;
    if (!useService) {
      writeFileSync(
        join(work, 'Dockerfile'),
        [
          'ARG NODE_IMAGE',
          `FROM $\{NODE_IMAGE}`,
          'ARG REVISION',
          `ENV REVISION=$\{REVISION}`,
          'CMD ["node", "-e", "setInterval(() => {}, 1000)"]',
          '',
        ].join('\n'),
      );
    }
    const metadata = join(work, 'metadata.json');
    const ref = `${env.REGISTRY}/archetype:${tag}`;
    await docker([
      'buildx',
      'build',
      '--platform',
      'linux/amd64',
      '--push',
      '--metadata-file',
      metadata,
      '--build-arg',
      `NODE_IMAGE=${env.NODE_IMAGE}`,
      '--build-arg',
      `REVISION=${revision}`,
      '--tag',
      ref,
      context,
    ]);
    const digest = (JSON.parse(readFileSync(metadata, 'utf8')) as Record<string, string>)[
      'containerimage.digest'
    ];
    if (!digest?.startsWith('sha256:')) throw new Error(`no containerimage.digest in ${metadata}`);
    return digest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The k8s/ manifests (or the test fixture when k8s/ is missing), image placeholder replaced. */
function manifests(namespace: string, image: string): KubernetesObject[] {
  const dir = join(repo, 'k8s');
  const texts = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => readFileSync(join(dir, f), 'utf8'))
    : [fixtureDeployment];
  const docs = texts.flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as KubernetesObject | null));
  return docs
    .filter((d): d is KubernetesObject => d !== null)
    .map((obj) => {
      obj.metadata = { ...obj.metadata, namespace };
      if (obj.kind === 'Deployment') {
        const dep = obj as V1Deployment;
        for (const c of dep.spec?.template.spec?.containers ?? [])
          if (c.image === 'archetype') c.image = image;
      }
      return obj;
    });
}

/** The Deployments of manifests() with a 2 s progress deadline, so a stuck rollout is reported at once. */
function shortDeadline(namespace: string, image: string): V1Deployment[] {
  const deployments = manifests(namespace, image).filter((o): o is V1Deployment => o.kind === 'Deployment');
  for (const d of deployments) if (d.spec) d.spec.progressDeadlineSeconds = 2;
  return deployments;
}

async function apply(objs: KubernetesObject[]): Promise<void> {
  for (const obj of objs) {
    await objects.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
  }
}

async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${suffix}`;
  await core.createNamespace({ body: { metadata: { name } } });
  namespaces.push(name);
  return name;
}

function describeDeployment(namespace: string, name: string) {
  return async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const pods = await core.listNamespacedPod({ namespace });
    return JSON.stringify({
      status: d.status,
      pods: pods.items.map((p) => ({
        name: p.metadata?.name,
        node: p.spec?.nodeName,
        phase: p.status?.phase,
        waiting: p.status?.containerStatuses?.map((c) => c.state?.waiting?.reason),
        conditions: p.status?.conditions?.map(
          (c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ''}`,
        ),
      })),
    });
  };
}

/** Deployment rolled out: observed, all replicas updated, ready and available, no old ones left. */
async function waitRolledOut(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
  return waitFor(
    `deployment ${namespace}/${name} to roll out ${replicas} replicas`,
    30_000,
    async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace });
      const s = d.status;
      const available = s?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
      const done =
        (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        s?.updatedReplicas === replicas &&
        s?.readyReplicas === replicas &&
        s?.availableReplicas === replicas &&
        (s?.replicas ?? 0) === replicas;
      return available && done ? d : undefined;
    },
    describeDeployment(namespace, name),
  );
}

beforeAll(
  async () => {
    env = await stackUp();
    for (const name of [
      'REGISTRY',
      'REGISTRY_BEARER',
      'REGISTRY_USERNAME',
      'REGISTRY_PASSWORD',
      'KUBECONFIG',
      'NODE_IMAGE',
      'STACK_DIR',
    ]) {
      if (!env[name]) throw new Error(`scripts/local-stack env did not print ${name}`);
    }
    // A private docker config: the test's login never touches the user's ~/.docker/config.json.
    dockerConfig = mkdtempSync(join(tmpdir(), 'local-target-docker-'));
    childEnv = { ...process.env, ...env, DOCKER_CONFIG: dockerConfig };
    kc = new KubeConfig();
    kc.loadFromFile(env.KUBECONFIG as string);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
  },
  60 * 60 * 1000,
);

afterAll(async () => {
  for (const name of namespaces) {
    await core?.deleteNamespace({ name }).catch(() => undefined);
  }
  if (dockerConfig) rmSync(dockerConfig, { recursive: true, force: true });
});

describe('local deploy target', () => {
  let firstDigest: string;

  test('registry refuses anonymous pulls and accepts the stack credentials', async () => {
    const anonymous = await fetch(`http://${env.REGISTRY}/v2/`, { signal: AbortSignal.timeout(10_000) });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await registryGet('', 'application/json')).status).toBe(200);
  });

  test("provides the AKS application routing add-on's IngressClass, as k8s/ingress.yaml expects", async () => {
    const networking = kc.makeApiClient(NetworkingV1Api);
    const ingressClass = await networking.readIngressClass({ name: 'webapprouting.kubernetes.azure.com' });
    expect(ingressClass.spec?.controller).toBe('webapprouting.kubernetes.azure.com/nginx');
  });

  test(
    'builds with buildx from the local base image, pushes, pulls back by digest, deploys and rolls out a new image',
    async () => {
      await docker(
        ['login', env.REGISTRY as string, '--username', env.REGISTRY_USERNAME as string, '--password-stdin'],
        env.REGISTRY_PASSWORD,
      );
      firstDigest = await buildAndPush(`local-target-${suffix}-1`, `rev1-${suffix}`);

      // Pull the manifest back by digest: its bytes hash to the digest buildx reported.
      const res = await registryGet(`archetype/manifests/${firstDigest}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(firstDigest);
      const body = Buffer.from(await res.arrayBuffer());
      expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(firstDigest);
      // ... and it is an amd64/linux image (an arm64 image would not run on AKS's x86 nodes).
      let manifest = JSON.parse(body.toString()) as {
        manifests?: { digest: string; platform?: { architecture: string; os: string } }[];
        config?: { digest: string };
      };
      if (manifest.manifests) {
        const amd64 = manifest.manifests.find(
          (m) => m.platform?.architecture === 'amd64' && m.platform.os === 'linux',
        );
        expect(amd64).toBeDefined();
        manifest = (await (
          await registryGet(`archetype/manifests/${amd64?.digest}`)
        ).json()) as typeof manifest;
      }
      const config = (await (
        await registryGet(`archetype/blobs/${manifest.config?.digest}`, '*/*')
      ).json()) as {
        architecture: string;
        os: string;
      };
      expect([config.os, config.architecture]).toEqual(['linux', 'amd64']);

      const namespace = await createNamespace('local-target');
      const image1 = `${env.REGISTRY}/archetype@${firstDigest}`;
      const applied = manifests(namespace, image1);
      await apply(applied);
      const d1 = await waitRolledOut(namespace, 'archetype', 2);
      expect(d1.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
      if (applied.some((o) => o.kind === 'Service')) {
        // The Service selects the pods: its EndpointSlice lists both, ready, on the container port.
        await waitFor(
          'the Service to have 2 ready endpoints',
          30_000,
          async () => {
            const slices = await discovery.listNamespacedEndpointSlice({
              namespace,
              labelSelector: 'kubernetes.io/service-name=archetype',
            });
            const ready = slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready));
            return ready.length === 2 ? ready : undefined;
          },
          async () => JSON.stringify((await discovery.listNamespacedEndpointSlice({ namespace })).items),
        );
      }
      const pods1 = await core.listNamespacedPod({ namespace });
      expect(pods1.items).toHaveLength(2);
      for (const pod of pods1.items) {
        expect(pod.spec?.containers[0]?.image).toBe(image1);
        expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
        expect(pod.status?.phase).toBe('Running');
      }

      // A second image: the Deployment controller rolls it out through a second ReplicaSet (revision 2).
      const secondDigest = await buildAndPush(`local-target-${suffix}-2`, `rev2-${suffix}`);
      expect(secondDigest).not.toBe(firstDigest);
      const image2 = `${env.REGISTRY}/archetype@${secondDigest}`;
      await apply(manifests(namespace, image2));
      const d2 = await waitFor(
        'revision 2 to roll out',
        30_000,
        async () => {
          const d = await waitRolledOut(namespace, 'archetype', 2);
          return d.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2' ? d : undefined;
        },
        describeDeployment(namespace, 'archetype'),
      );
      expect(d2.spec?.template.spec?.containers[0]?.image).toBe(image2);
      const replicaSets = (await apps.listNamespacedReplicaSet({ namespace })).items.filter((rs) =>
        rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'archetype'),
      );
      expect(replicaSets).toHaveLength(2);
      const byRevision = Object.fromEntries(
        replicaSets.map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs]),
      );
      expect(byRevision['1']?.spec?.template?.spec?.containers[0]?.image).toBe(image1);
      expect(byRevision['1']?.status?.replicas ?? 0).toBe(0);
      expect(byRevision['2']?.spec?.template?.spec?.containers[0]?.image).toBe(image2);
      expect(byRevision['2']?.status?.readyReplicas).toBe(2);
      const pods2 = await waitFor(
        'old pods to be gone',
        30_000,
        async () => {
          const pods = (await core.listNamespacedPod({ namespace })).items;
          return pods.length === 2 && pods.every((p) => p.spec?.containers[0]?.image === image2)
            ? pods
            : undefined;
        },
        describeDeployment(namespace, 'archetype'),
      );
      expect(pods2.map((p) => p.status?.containerStatuses?.[0]?.ready)).toEqual([true, true]);
    },
    15 * 60 * 1000,
  );

  test(
    'bearer-token registry (ACR-style): docker pushes through it; a token from its realm pulls the manifest by digest',
    async () => {
      const bearer = env.REGISTRY_BEARER as string;
      const challenge =
        (await fetch(`http://${bearer}/v2/`, { signal: AbortSignal.timeout(10_000) })).headers.get(
          'www-authenticate',
        ) ?? '';
      expect(challenge).toMatch(/^Bearer /);

      await docker(
        ['login', bearer, '--username', env.REGISTRY_USERNAME as string, '--password-stdin'],
        env.REGISTRY_PASSWORD,
      );
      const tag = `bearer-${suffix}`;
      const work = mkdtempSync(join(tmpdir(), 'local-target-bearer-'));
      try {
        writeFileSync(
          join(work, 'Dockerfile'),
          `ARG NODE_IMAGE\nFROM \${NODE_IMAGE}\nLABEL test.tag=${tag}\n`,
        );
        const metadata = join(work, 'metadata.json');
        await docker([
          'buildx',
          'build',
          '--platform',
          'linux/amd64',
          '--push',
          '--metadata-file',
          metadata,
          '--build-arg',
          `NODE_IMAGE=${env.NODE_IMAGE}`,
          '--tag',
          `${bearer}/archetype:${tag}`,
          work,
        ]);
        const digest = (JSON.parse(readFileSync(metadata, 'utf8')) as Record<string, string>)[
          'containerimage.digest'
        ] as string;

        // The Docker token protocol, as a client without docker does it: follow the challenge to the realm.
        const url = `http://${bearer}/v2/archetype/manifests/${digest}`;
        const first = await fetch(url, {
          headers: { Accept: manifestTypes },
          signal: AbortSignal.timeout(10_000),
        });
        expect(first.status).toBe(401);
        const params = Object.fromEntries(
          [...(first.headers.get('www-authenticate') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [
            m[1],
            m[2],
          ]),
        );
        expect(params).toMatchObject({ service: bearer, scope: 'repository:archetype:pull' });
        const tokenUrl = `${params.realm}?service=${encodeURIComponent(params.service ?? '')}&scope=${encodeURIComponent(params.scope ?? '')}`;
        const refused = await fetch(tokenUrl, {
          headers: {
            Authorization: `Basic ${Buffer.from(`${env.REGISTRY_USERNAME}:wrong`).toString('base64')}`,
          },
          signal: AbortSignal.timeout(10_000),
        });
        expect(refused.status).toBe(401);
        const granted = await fetch(tokenUrl, {
          headers: { Authorization: basicAuth() },
          signal: AbortSignal.timeout(10_000),
        });
        expect(granted.status).toBe(200);
        const { token } = (await granted.json()) as { token: string };
        const pulled = await fetch(url, {
          headers: { Accept: manifestTypes, Authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(10_000),
        });
        expect(pulled.status).toBe(200);
        expect(pulled.headers.get('docker-content-digest')).toBe(digest);
        // One storage behind both: the Basic-auth registry serves the same manifest.
        expect((await registryGet(`archetype/manifests/${digest}`)).status).toBe(200);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    5 * 60 * 1000,
  );

  // kwok failure triggers (scripts/lib/kwok-stages.yaml): an annotation, or a word in the image reference.
  test.each([
    { mode: 'ImagePullBackOff', how: 'image', phase: 'Pending' },
    { mode: 'CrashLoopBackOff', how: 'annotation', phase: 'Running' },
    { mode: 'NotReady', how: 'annotation', phase: 'Running' },
  ])(
    'a rollout whose new pods report $mode ($how trigger) ends in ProgressDeadlineExceeded, old pods keep serving',
    async ({ mode, how, phase }) => {
      if (!firstDigest) throw new Error('needs the image pushed by the previous test');
      const namespace = await createNamespace(`local-target-${mode.toLowerCase()}`);
      await apply(shortDeadline(namespace, `${env.REGISTRY}/archetype@${firstDigest}`));
      await waitRolledOut(namespace, 'archetype', 2);

      const failing = shortDeadline(
        namespace,
        how === 'image'
          ? `${env.REGISTRY}/archetype:${mode.toLowerCase()}`
          : `${env.REGISTRY}/archetype@${firstDigest}`,
      );
      for (const dep of failing) {
        const template = dep.spec?.template;
        if (how === 'annotation' && template) {
          template.metadata = {
            ...template.metadata,
            annotations: { ...template.metadata?.annotations, 'archetype.local/fail': mode },
          };
        }
      }
      await apply(failing);

      const progressing = await waitFor(
        'Progressing=False ProgressDeadlineExceeded',
        30_000,
        async () => {
          const d = await apps.readNamespacedDeployment({ name: 'archetype', namespace });
          const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
          return c?.reason === 'ProgressDeadlineExceeded' ? { c, d } : undefined;
        },
        describeDeployment(namespace, 'archetype'),
      );
      expect(progressing.c.status).toBe('False');
      expect(progressing.d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      // The old ReplicaSet's two pods stay available (maxUnavailable 0); the new pod is not ready.
      expect(progressing.d.status?.availableReplicas).toBe(2);
      const pods = (await core.listNamespacedPod({ namespace })).items;
      const failed = pods.filter(
        (p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True',
      );
      expect(failed.length).toBeGreaterThanOrEqual(1);
      for (const pod of failed) {
        expect(pod.status?.phase).toBe(phase);
        const container = pod.status?.containerStatuses?.[0];
        expect(container?.ready).toBe(false);
        if (mode === 'NotReady') expect(container?.state?.running).toBeDefined();
        else expect(container?.state?.waiting?.reason).toBe(mode);
      }
    },
    60 * 1000,
  );
});
