import type { ImagePlatform } from '../util/platform.js';

// The platforms an image runs on, from its manifest: an index (or Docker manifest list) names them per
// entry; a single image manifest has its platform only in its config blob (architecture, os, variant).
// Attestation entries (platform unknown/unknown, buildx provenance/SBOM) run nowhere and are left out.

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface RawManifest {
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
