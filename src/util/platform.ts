/** An image's or a node's platform, as OCI image indexes and node labels name it. */
export interface ImagePlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** linux/amd64, linux/arm/v7 */
export function formatPlatform(p: ImagePlatform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
