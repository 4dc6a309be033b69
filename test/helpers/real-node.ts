import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../../src/kube/client/client.js';
import { buildAndPushImage } from './images.js';

// The local target's real node (scripts/local-stack: kubelet + containerd, node `localhost`, tainted so that
// only pods that ask for it land there): its pull secret, the k8s/ overlay that puts the archetype on it, a
// bounded request loop through the API server's service proxy, and images built for it.

const run = promisify(execFile);
export const repo = new URL('../../', import.meta.url).pathname;
const stackScript = join(repo, 'scripts/local-stack');

export const pullSecretName = 'local-registry';

export interface RealNode {
  name: string;
  label: string;
  podCidr: string;
}

/** The real node the stack runs (scripts/local-stack env), or an error saying how to get one. */
export function realNode(): RealNode {
  const name = process.env.REAL_NODE_NAME;
  const label = process.env.REAL_NODE_LABEL;
  const podCidr = process.env.REAL_NODE_POD_CIDR;
  if (!name || !label || !podCidr)
    throw new Error(
      'REAL_NODE_NAME, REAL_NODE_LABEL or REAL_NODE_POD_CIDR is not set: the local stack runs no real node. Run scripts/local-stack up (without ARCHETYPE_REAL_NODE=0) and eval "$(scripts/local-stack env)"',
    );
  return { name, label, podCidr };
}

/** True when ip is inside the IPv4 CIDR a.b.c.d/n. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && (toInt(ip) & mask) >>> 0 === (toInt(base ?? '') & mask) >>> 0;
}

async function stack(args: string[]): Promise<string> {
  try {
    return (await run(stackScript, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`scripts/local-stack ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** The namespace (made if missing) with the registry pull secret the real node's kubelet pulls with. */
export async function withPullSecret(namespace: string): Promise<string> {
  await stack(['pull-secret', namespace, pullSecretName]);
  return namespace;
}

/**
 * k8s/ (or dir) copied to a temp folder with every pod template on the real node: its nodeSelector, the
 * toleration for its taint and the imagePullSecret (scripts/lib/real-node-overlay.mjs); edit changes a file.
 */
export async function realNodeManifests(
  edit: (file: string, text: string) => string = (_file, text) => text,
  dir = join(repo, 'k8s'),
): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'k8s-real-node-'));
  try {
    await run(process.execPath, [
      join(repo, 'scripts/lib/real-node-overlay.mjs'),
      dir,
      out,
      '--pull-secret',
      pullSecretName,
    ]);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`real-node-overlay.mjs failed: ${e.stderr || e.message}`);
  }
  for (const file of ['deployment.yaml', 'service.yaml', 'ingress.yaml']) {
    const path = join(out, file);
    writeFileSync(path, edit(file, readFileSync(path, 'utf8')));
  }
  return out;
}

/** The service proxy path of a Service port (the API server dials one of its ready endpoints). */
export function serviceProxyPath(
  namespace: string,
  service: string,
  port: string | number,
  path = '/',
): string {
  return `/api/v1/namespaces/${namespace}/services/${service}:${port}/proxy${path}`;
}

export interface LoopResult {
  sent: number;
  failed: number;
  /** the first few failures, for the assertion message */
  failures: string[];
  /** how many answers named each revision */
  revisions: Record<string, number>;
  elapsedMs: number;
}

/**
 * GET path with Host `host` at the local target's front door (tools/edge, scripts/local-stack env EDGE_HTTP),
 * or at `at` (address:port, e.g. a Gateway's address and listener port): the body of a 2xx answer, else an
 * error with the status and body. Tried once, 10 s at most.
 */
export function frontDoorGet(host: string, path = '/', at = process.env.EDGE_HTTP ?? ''): Promise<string> {
  const [address, port] = at.split(':');
  if (!address || !port)
    return Promise.reject(new Error('EDGE_HTTP is not set: eval "$(scripts/local-stack env)"'));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: address, port: Number(port), path, headers: { host }, timeout: 10_000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300
            ? resolve(body)
            : reject(
                new Error(`${res.statusCode} from the front door for ${host}${path}: ${body.slice(0, 200)}`),
              ),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from the front door for ${host}${path} in 10 s`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * GET / of a Service through the API server's service proxy (a path), or through `get` (e.g. frontDoorGet),
 * until done() says stop, at most maxRequests and maxMs (bounded whatever happens). A failure is any error
 * or non-2xx answer (each request is tried once), or a body without a revision.
 */
export async function requestLoop(
  cluster: Cluster,
  path: string | (() => Promise<string>),
  done: () => boolean,
  { maxRequests = 3000, maxMs = 240_000, intervalMs = 50 } = {},
): Promise<LoopResult> {
  const started = Date.now();
  const result: LoopResult = { sent: 0, failed: 0, failures: [], revisions: {}, elapsedMs: 0 };
  while (!done() && result.sent < maxRequests && Date.now() - started < maxMs) {
    result.sent++;
    try {
      // outageMs 0: the client's retry of 503s (an API server restarting) would hide a failed request
      const body =
        typeof path === 'string'
          ? await cluster.request<string>('GET', path, { text: true, timeoutMs: 10_000, outageMs: 0 })
          : await path();
      const revision = (JSON.parse(body) as { revision?: string }).revision;
      if (!revision) throw new Error(`no revision in ${body.slice(0, 200)}`);
      result.revisions[revision] = (result.revisions[revision] ?? 0) + 1;
    } catch (error) {
      result.failed++;
      if (result.failures.length < 5)
        result.failures.push(
          `${new Date().toISOString()} ${error instanceof Error ? error.message : String(error)}`,
        );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

/**
 * A linux/arm64 image with no RUN step (a statically cross-compiled Go binary copied into an empty image),
 * pushed with buildx: it pulls fine on the amd64 node and fails to start with "exec format error".
 */
export async function pushArm64Image(reference: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'arm64-hello-'));
  try {
    writeFileSync(join(dir, 'go.mod'), 'module armhello\n\ngo 1.24\n');
    writeFileSync(
      join(dir, 'main.go'),
      'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from arm64") }\n',
    );
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n');
    let built = false;
    for (const bin of ['go', '/usr/local/go/bin/go']) {
      try {
        await run(bin, ['build', '-trimpath', '-o', 'hello', '.'], {
          cwd: dir,
          env: { ...env, GOOS: 'linux', GOARCH: 'arm64', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
        });
        built = true;
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
      }
    }
    if (!built)
      throw new Error('no Go toolchain on PATH or in /usr/local/go to cross-compile the arm64 binary');
    const digest = await buildAndPushImage({ context: dir, tag: reference, platform: 'linux/arm64', env });
    return digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The archetype image from service/Dockerfile with REVISION baked in, pushed with buildx as the action
 * builds it; its reference by digest. `env` carries a DOCKER_CONFIG logged in to the registry.
 */
export async function buildArchetypeImage(
  registry: string,
  revision: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const digest = await buildAndPushImage({
    context: join(repo, 'service'),
    tag: `${registry}/archetype:${revision}`,
    buildArgs: { NODE_IMAGE: env.NODE_IMAGE ?? '', REVISION: revision },
    // npm behind a TLS-intercepting proxy: the machine's CA bundle, as a build secret (not in the image)
    secretFiles: { ca_certs: '/etc/ssl/certs/ca-certificates.crt' },
    env,
  });
  return `${registry}/archetype@${digest}`;
}

/**
 * One line per pod on the real node (namespace/name, phase, why not ready) and the namespace's recent
 * warning events: what explains a rollout that never became ready, first in a failed test's message.
 */
export async function realNodeReport(cluster: Cluster, namespace: string): Promise<string> {
  const lines: string[] = [];
  try {
    const { name } = realNode();
    const pods = await cluster.request<{ items: V1Pod[] }>('GET', '/api/v1/pods', {
      query: { fieldSelector: `spec.nodeName=${name}` },
    });
    for (const pod of pods.items) {
      const states = (pod.status?.containerStatuses ?? []).map((c) => {
        const state = c.state?.waiting
          ? `waiting ${c.state.waiting.reason ?? ''} ${c.state.waiting.message ?? ''}`
          : c.state?.terminated
            ? `terminated ${c.state.terminated.reason ?? ''} exit ${c.state.terminated.exitCode}`
            : c.state?.running
              ? 'running'
              : '?';
        return `${c.name}: ${state.trim()}, ready ${c.ready}, restarts ${c.restartCount}`;
      });
      const unready = (pod.status?.conditions ?? [])
        .filter((c) => c.status !== 'True' && c.message)
        .map((c) => `${c.type}: ${c.message}`);
      lines.push(
        `pod ${pod.metadata?.namespace}/${pod.metadata?.name} ${pod.status?.phase}${pod.metadata?.deletionTimestamp ? ' (terminating)' : ''}; ${[...states, ...unready].join('; ')}`,
      );
    }
    const pending = await cluster.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`);
    for (const pod of pending.items.filter((p) => !p.spec?.nodeName))
      lines.push(
        `pod ${namespace}/${pod.metadata?.name} not scheduled: ${(pod.status?.conditions ?? []).map((c) => c.message).join('; ')}`,
      );
    const events = await cluster.request<{
      items: { type?: string; reason?: string; message?: string; involvedObject?: { name?: string } }[];
    }>('GET', `/api/v1/namespaces/${namespace}/events`);
    for (const e of events.items.filter((e) => e.type === 'Warning').slice(-15))
      lines.push(`event ${e.involvedObject?.name}: ${e.reason} ${e.message}`);
  } catch (error) {
    lines.push(
      `(could not read the real node's pods: ${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return lines.join('\n');
}
