import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { Cluster } from '../../src/kube/client/client.js';
import { deleteNamespace, get, testCluster } from './cluster.js';
import { localTargetInputs, runAction } from './run-action.js';

// What the drills share: images for fake commits without a build, manifests that roll out slowly, and the
// state of an environment read back from the cluster.

export const gitShaAnnotation = 'archetype-deploy.github.io/git-sha';
export const newSha = () => randomBytes(20).toString('hex');

const accept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function registryRequest(method: string, path: string, init: { body?: string; type?: string } = {}) {
  const auth = Buffer.from(`${process.env.REGISTRY_USERNAME}:${process.env.REGISTRY_PASSWORD}`).toString(
    'base64',
  );
  return fetch(`http://${process.env.REGISTRY}/v2/${path}`, {
    method,
    headers: {
      Authorization: `Basic ${auth}`,
      Accept: accept,
      ...(init.type ? { 'Content-Type': init.type } : {}),
    },
    body: init.body,
    signal: AbortSignal.timeout(30_000),
  });
}

/**
 * Tags each sha in repository `to` with an archetype image the registry already holds (archetype:latest,
 * else any commit's tag), so that a deploy of those commits reuses it instead of building. Blobs are
 * mounted across repositories; nothing is pulled. On a registry without one, the action builds it once.
 */
export async function tagCommits(to: string, shas: string[]): Promise<void> {
  let manifest = await copyManifest('archetype', await someTag('archetype'), to);
  if (!manifest) {
    const built = newSha();
    const scratch = `drill-build-${randomBytes(3).toString('hex')}`;
    const run = await runAction(
      { ...localTargetInputs(), mode: 'deploy', namespace: scratch, 'image-name': to },
      { sha: built, ref: 'refs/heads/drill-build' },
    );
    await deleteNamespace(testCluster(), scratch);
    if (run.code !== 0)
      throw new Error(`building the archetype image through the action failed: ${run.error}`);
    manifest = await copyManifest(to, built, to);
  }
  if (!manifest) throw new Error(`the registry holds no archetype image in ${to} even after a build`);
  for (const sha of shas) {
    const put = await registryRequest('PUT', `${to}/manifests/${sha}`, manifest);
    if (!put.ok) throw new Error(`cannot tag ${to}:${sha}: ${put.status} ${await put.text()}`);
  }
}

async function someTag(repository: string): Promise<string | undefined> {
  const list = await registryRequest('GET', `${repository}/tags/list`);
  const tags: string[] = list.ok ? (((await list.json()) as { tags?: string[] }).tags ?? []) : [];
  const candidates = [
    ...(tags.includes('latest') ? ['latest'] : []),
    ...tags.filter((t) => /^[0-9a-f]{40}$/.test(t)),
  ];
  // a tag may point at a manifest deleted since: take the first that resolves
  for (const tag of candidates)
    if ((await registryRequest('HEAD', `${repository}/manifests/${tag}`)).ok) return tag;
  return undefined;
}

/** Copies from@reference (an image, or an index and its images) into `to`, by digest. */
async function copyManifest(
  from: string,
  reference: string | undefined,
  to: string,
): Promise<{ body: string; type: string } | undefined> {
  if (!reference) return undefined;
  const response = await registryRequest('GET', `${from}/manifests/${reference}`);
  if (!response.ok) return undefined;
  const body = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const parsed = JSON.parse(body) as {
    config?: { digest: string };
    layers?: { digest: string }[];
    manifests?: { digest: string }[];
  };
  for (const child of parsed.manifests ?? [])
    if (!(await copyManifest(from, child.digest, to))) throw new Error(`${from}@${child.digest} is missing`);
  if (from !== to)
    for (const blob of [parsed.config, ...(parsed.layers ?? [])]) {
      if (!blob) continue;
      const mounted = await registryRequest(
        'POST',
        `${to}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
      );
      if (mounted.status !== 201)
        throw new Error(`cannot mount ${blob.digest} into ${to}: ${mounted.status}`);
    }
  const put = await registryRequest('PUT', `${to}/manifests/${digestOf(body)}`, { body, type });
  if (!put.ok) throw new Error(`cannot copy ${from}@${reference} into ${to}: ${put.status}`);
  return { body, type };
}

export const digestOf = (raw: string) => `sha256:${createHash('sha256').update(raw).digest('hex')}`;

/** k8s/ in a temp folder, with minReadySeconds so that a rollout lasts long enough to overlap another. */
export function slowManifests(minReadySeconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-drill-'));
  cpSync('k8s', dir, { recursive: true });
  const file = join(dir, 'deployment.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      /\n {2}replicas: 2\n/,
      `\n  replicas: 2\n  minReadySeconds: ${minReadySeconds}\n`,
    ),
  );
  return dir;
}

/** The environment as the cluster has it: the commit each object was applied from, and the rollout. */
export async function environmentState(cluster: Cluster, namespace: string) {
  const path = (group: string, kind: string) =>
    `/${group === 'v1' ? 'api/v1' : `apis/${group}`}/namespaces/${namespace}/${kind}/archetype`;
  const deployment = await get<V1Deployment>(cluster, path('apps/v1', 'deployments'));
  const service = await get<KubernetesObject>(cluster, path('v1', 'services'));
  const ingress = await get<KubernetesObject>(cluster, path('networking.k8s.io/v1', 'ingresses'));
  const sets = await get<{ items: V1ReplicaSet[] }>(
    cluster,
    `/apis/apps/v1/namespaces/${namespace}/replicasets`,
  );
  const sha = (o: KubernetesObject | undefined) => o?.metadata?.annotations?.[gitShaAnnotation];
  return {
    deployment,
    /** git sha of each object of the set: all equal unless a deploy was half-applied */
    shas: { Deployment: sha(deployment), Service: sha(service), Ingress: sha(ingress) },
    /** app.kubernetes.io/version of the pod template (short sha) */
    templateVersion: deployment?.spec?.template.metadata?.labels?.['app.kubernetes.io/version'],
    /** the short shas every ReplicaSet was made from: a commit that never reached the cluster is absent */
    replicaSetVersions: (sets?.items ?? []).map(
      (rs) => rs.spec?.template?.metadata?.labels?.['app.kubernetes.io/version'] ?? '',
    ),
    available: deployment?.status?.availableReplicas ?? 0,
    updated: deployment?.status?.updatedReplicas ?? 0,
    image: deployment?.spec?.template.spec?.containers[0]?.image ?? '',
  };
}

/** The variables a GitHub run has, which the deploy lock records to order deploys. */
export function githubRun(runNumber: number): Record<string, string> {
  return {
    GITHUB_RUN_NUMBER: String(runNumber),
    GITHUB_RUN_ID: String(9_000_000 + runNumber),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW_REF: 'local/archetype/.github/workflows/deploy.yml@refs/heads/main',
  };
}

/**
 * An HTTP proxy in front of the local registry, on a port of its own, that can go down on cue: every request
 * then has its connection reset, as when the registry process dies. The shared registry itself is never
 * stopped (other tests use it). `downAfterLogin` takes it down right after the first authenticated GET /v2/
 * (docker login), so that the next contact, the push, finds it gone.
 */
export class RegistryProxy {
  readonly requests: { method: string; url: string; refused: boolean }[] = [];
  private server: Server | undefined;
  private down = false;
  private downAfterLogin = false;
  private upAgainMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  port = 0;

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Down after the login; with upAgainMs, up again that long after the first request it refused. */
  failAfterLogin(upAgainMs?: number): void {
    this.downAfterLogin = true;
    this.upAgainMs = upAgainMs;
  }

  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.down = false;
    this.downAfterLogin = false;
    this.upAgainMs = undefined;
    this.requests.length = 0;
  }

  get refused(): number {
    return this.requests.filter((r) => r.refused).length;
  }

  async start(): Promise<void> {
    const [upstreamHost, upstreamPort] = (process.env.REGISTRY ?? '').split(':');
    this.server = createServer((req, res) => {
      const refuse = this.down;
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', refused: refuse });
      if (refuse) {
        if (this.upAgainMs !== undefined && !this.timer)
          this.timer = setTimeout(() => {
            this.down = false;
          }, this.upAgainMs);
        req.socket.destroy();
        return;
      }
      const upstream = request(
        {
          host: upstreamHost,
          port: Number(upstreamPort),
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          if (
            this.downAfterLogin &&
            req.method === 'GET' &&
            req.url === '/v2/' &&
            answer.statusCode === 200
          ) {
            this.down = true;
            this.downAfterLogin = false;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
