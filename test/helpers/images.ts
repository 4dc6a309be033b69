import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PushOptions {
  context: string;
  /** full reference with tag, e.g. 127.0.0.1:5000/archetype:rev-1 */
  tag: string;
  platform?: string;
  buildArgs?: Record<string, string>;
  /** build secret id -> file */
  secretFiles?: Record<string, string>;
  /** carries a DOCKER_CONFIG logged in to the registry */
  env: NodeJS.ProcessEnv;
  /** false: no provenance or SBOM attestations (a single-platform build is then a plain image manifest) */
  attestations?: boolean;
}

/** docker buildx build --push, as the tests build images; the pushed digest from --metadata-file. */
export async function buildAndPushImage(options: PushOptions): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'test-image-'));
  try {
    const metadata = join(work, 'metadata.json');
    const args = ['buildx', 'build', '--platform', options.platform ?? 'linux/amd64', '--push'];
    args.push('--metadata-file', metadata, '--tag', options.tag);
    if (options.attestations === false) args.push('--provenance=false', '--sbom=false');
    for (const [k, v] of Object.entries(options.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
    for (const [id, src] of Object.entries(options.secretFiles ?? {}))
      args.push('--secret', `id=${id},src=${src}`);
    await run('docker', [...args, options.context], { env: options.env, maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: { stderr?: string; message: string }) => {
        throw new Error(`docker buildx build ${options.tag} failed: ${error.stderr || error.message}`);
      },
    );
    const digest = (JSON.parse(readFileSync(metadata, 'utf8')) as Record<string, string>)[
      'containerimage.digest'
    ];
    if (!digest?.startsWith('sha256:')) throw new Error(`no containerimage.digest in ${metadata}`);
    return digest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The tags the local registry holds for a repository (Distribution API: GET /v2/<name>/tags/list). */
export async function registryTags(repository: string): Promise<string[]> {
  const auth = Buffer.from(`${process.env.REGISTRY_USERNAME}:${process.env.REGISTRY_PASSWORD}`).toString(
    'base64',
  );
  const response = await fetch(`http://${process.env.REGISTRY}/v2/${repository}/tags/list`, {
    headers: { Authorization: `Basic ${auth}` },
  });
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`GET /v2/${repository}/tags/list: ${response.status}`);
  return ((await response.json()) as { tags?: string[] | null }).tags ?? [];
}

/**
 * A one-line Node program on the local base image (NODE_IMAGE), pushed to the local registry as
 * <registry>/<repository>:latest with the registry's credentials; its reference by digest.
 */
export async function pushNodeScriptImage(
  repository: string,
  script: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const registry = process.env.REGISTRY ?? '';
  const work = mkdtempSync(join(tmpdir(), 'script-image-'));
  const env = { ...process.env, DOCKER_CONFIG: join(work, 'docker') };
  try {
    const login = run(
      'docker',
      ['login', registry, '--username', process.env.REGISTRY_USERNAME ?? '', '--password-stdin'],
      { env },
    );
    login.child.stdin?.end(process.env.REGISTRY_PASSWORD);
    await login;
    writeFileSync(
      join(work, 'Dockerfile'),
      `ARG NODE_IMAGE\nFROM \${NODE_IMAGE}\nUSER 1000:1000\n${Object.entries(labels)
        .map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}\n`)
        .join('')}CMD ["node", "-e", ${JSON.stringify(script)}]\n`,
    );
    const digest = await buildAndPushImage({
      context: work,
      tag: `${registry}/${repository}:latest`,
      buildArgs: { NODE_IMAGE: process.env.NODE_IMAGE ?? '' },
      env,
    });
    return `${registry}/${repository}@${digest}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** An image manifest's OCI descriptor as the registry gives it (HEAD /v2/<name>/manifests/<digest>). */
export async function manifestDescriptor(
  host: string,
  repository: string,
  digest: string,
  authorization: string,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const head = await fetch(`http://${host}/v2/${repository}/manifests/${digest}`, {
    method: 'HEAD',
    headers: {
      authorization,
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return {
    mediaType: head.headers.get('content-type') ?? '',
    digest,
    size: Number(head.headers.get('content-length')),
  };
}
