import type { ImagePlatform } from '../util/platform.js';
import { type Docker, explainingLine } from './docker.js';

// The platforms an image in the registry runs on, read by digest through the docker seam: an index (or
// Docker manifest list) names them per entry; a single image manifest has its platform only in its config
// blob (architecture, os, variant). Attestation entries (platform unknown/unknown, buildx provenance/SBOM)
// run nowhere and are left out.

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

interface RawManifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
}

const indexTypes = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** The platforms of an index / manifest list; undefined when `raw` is a single image manifest. */
export function indexPlatforms(raw: RawManifest): ImagePlatform[] | undefined {
  const isIndex = (raw.mediaType && indexTypes.has(raw.mediaType)) || Array.isArray(raw.manifests);
  if (!isIndex) return undefined;
  const platforms: ImagePlatform[] = [];
  for (const m of raw.manifests ?? []) {
    if (m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    const os = m.platform?.os ?? 'unknown';
    const architecture = m.platform?.architecture ?? 'unknown';
    if (os === 'unknown' || architecture === 'unknown') continue;
    platforms.push({ os, architecture, ...(m.platform?.variant ? { variant: m.platform.variant } : {}) });
  }
  return platforms;
}

/** The platform an image config blob declares. */
export function configPlatform(config: {
  os?: string;
  architecture?: string;
  variant?: string;
}): ImagePlatform[] {
  if (!config.os || !config.architecture) return [];
  return [
    {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    },
  ];
}

/** Reads the platforms of `reference` (registry/name@sha256:...) with a docker that is logged in. */
export async function imagePlatforms(docker: Docker, reference: string): Promise<ImagePlatform[]> {
  const raw = await inspect(docker, reference, ['--raw']);
  const fromIndex = indexPlatforms(parse<RawManifest>(raw, reference));
  if (fromIndex) return fromIndex;
  const config = parse<{ os?: string; architecture?: string; variant?: string }>(
    await inspect(docker, reference, ['--format', '{{json .Image}}']),
    reference,
  );
  return configPlatform(config);
}

/** imagePlatforms with a docker of its own: a private config, logged in by `login`, removed afterwards. */
async function inspect(docker: Docker, reference: string, args: string[]): Promise<string> {
  const result = await docker.run(['buildx', 'imagetools', 'inspect', reference, ...args]);
  if (result.exitCode !== 0)
    throw new Error(
      `cannot read the manifest of ${reference} from the registry: ${explainingLine(result.stderr)}`,
    );
  return result.stdout;
}

function parse<T>(text: string, reference: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`the registry's manifest of ${reference} is not JSON: ${text.slice(0, 200)}`);
  }
}
