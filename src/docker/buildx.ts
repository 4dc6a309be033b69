import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildSpec } from '../plan.js';
import { type Docker, toolJson } from './docker.js';

/** The buildx command line for a spec (pure). Pushes: the pipeline deploys what the registry holds. */
export function buildxArgs(spec: BuildSpec, metadataFile: string): string[] {
  const args = ['buildx', 'build', '--platform', spec.platforms.join(','), '--file', spec.dockerfile];
  for (const tag of spec.tags) args.push('--tag', tag);
  for (const [k, v] of Object.entries(spec.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  for (const [id, path] of Object.entries(spec.secretFiles)) args.push('--secret', `id=${id},src=${path}`);
  for (const [k, v] of Object.entries(spec.labels)) args.push('--label', `${k}=${v}`);
  for (const c of spec.cacheFrom) args.push('--cache-from', c);
  for (const c of spec.cacheTo) args.push('--cache-to', c);
  // No provenance attestation: buildx's docker driver (a plain Docker engine, as on the local target) cannot
  // attach one. What a reused image was built from is checked by its org.opencontainers.image.revision label
  // instead (registry/images.ts reusableImage), and who may push is the registry's repository permissions.
  args.push(
    '--provenance=false',
    '--push',
    '--progress=plain',
    '--metadata-file',
    metadataFile,
    spec.context,
  );
  return args;
}

/** Builds and pushes; returns the digest the registry holds. Output streams to the log. */
export async function buildAndPush(docker: Docker, spec: BuildSpec): Promise<string> {
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'buildx-'));
  try {
    const metadataFile = join(dir, 'metadata.json');
    const result = await docker.run(buildxArgs(spec, metadataFile), { stream: true });
    if (result.exitCode !== 0) throw new Error(buildFailure(`${result.stdout}\n${result.stderr}`));
    const metadata = toolJson<Record<string, unknown>>(
      readFileSync(metadataFile, 'utf8'),
      'docker buildx build (its --metadata-file)',
    );
    const digest = metadata['containerimage.digest'];
    if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new Error(
        `docker buildx wrote no image digest to its metadata file (${JSON.stringify(metadata)})`,
      );
    return digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The build's folder and Dockerfile exist (relative to the repository's root, the runner's working folder):
 * checked with the manifests, before anything is built, so that another repository's layout is named at once.
 */
export function checkBuildFiles(spec: Pick<BuildSpec, 'context' | 'dockerfile'>, root = process.cwd()): void {
  if (!existsSync(spec.context))
    throw new Error(
      `input 'context': there is no folder '${spec.context}' in ${root}${spec.context === 'service' ? " ('service' is the default, this action's own repository's layout)" : ''}: set context to your app's Docker build folder (and dockerfile if it is not <context>/Dockerfile)`,
    );
  if (!existsSync(spec.dockerfile))
    throw new Error(
      `input 'dockerfile': there is no file '${spec.dockerfile}' in ${root}: set dockerfile to your app's Dockerfile`,
    );
}

/** One message from buildkit's plain output: the failing step, its last lines, and buildx's error. */
export function buildFailure(output: string): string {
  const lines = output.split('\n');
  const errorLine = [...lines]
    .reverse()
    .find((l) => /^ERROR:|^error:/i.test(l.trim()))
    ?.trim();
  // buildkit prints the failing step's log between "------" lines, headed " > [stage n/m] INSTRUCTION:"
  const start = lines.findIndex((l) => /^ > \[.*\]/.test(l));
  let step = '';
  let tail: string[] = [];
  if (start >= 0) {
    step = (lines[start] ?? '').replace(/^ > /, '').replace(/:$/, '');
    const end = lines.findIndex((l, i) => i > start && l.startsWith('------'));
    tail = lines.slice(start + 1, end > start ? end : start + 11).filter((l) => l.trim());
  }
  const parts = [
    `docker buildx build failed${step ? ` at step ${step}` : ''}: ${errorLine ?? 'see the build log'}`,
  ];
  if (tail.length > 0) parts.push(...tail.slice(-10).map((l) => `  ${l.trim()}`));
  return parts.join('\n');
}
