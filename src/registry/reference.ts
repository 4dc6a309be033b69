// An image reference as the action writes them: registry host, repository path, and a tag or a digest
// (host/name:tag, host/name@sha256:…). The host is always explicit: no Docker Hub defaults.

export interface ImageReference {
  host: string;
  repository: string;
  /** a tag or a digest (sha256:…) */
  reference: string;
}

export function parseReference(text: string): ImageReference {
  const slash = text.indexOf('/');
  if (slash <= 0) throw new Error(`image reference '${text}' names no registry host (host/name:tag)`);
  const host = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  const at = rest.indexOf('@');
  if (at >= 0) return { host, repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/'))
    return { host, repository: rest.slice(0, colon), reference: rest.slice(colon + 1) };
  return { host, repository: rest, reference: 'latest' };
}

/** Registries on this machine speak plain HTTP, as docker allows them without configuration. */
export function registryOrigin(host: string): string {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
  return `${loopback ? 'http' : 'https'}://${host}`;
}
