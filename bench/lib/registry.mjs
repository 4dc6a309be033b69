// The local registry's HTTP API (Docker Registry v2 / OCI distribution), Basic auth: the benchmark's own
// images are made here without docker: one image index per fake commit, each with its own digest.
import { createHash } from 'node:crypto';

const indexType = 'application/vnd.oci.image.index.v1+json';
const accept = [
  indexType,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export class Registry {
  constructor(host, username, password) {
    this.host = host;
    this.auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  async request(method, path, { body, type } = {}) {
    const response = await fetch(`http://${this.host}/v2/${path}`, {
      method,
      headers: { Authorization: this.auth, Accept: accept, ...(type ? { 'Content-Type': type } : {}) },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok && response.status !== 404)
      throw new Error(
        `${method} http://${this.host}/v2/${path}: ${response.status} ${await response.text()}`,
      );
    return response;
  }

  async tags(repository) {
    const response = await this.request('GET', `${repository}/tags/list`);
    return response.status === 404 ? [] : ((await response.json()).tags ?? []);
  }

  /** { digest, mediaType, raw } or undefined */
  async manifest(repository, reference) {
    const response = await this.request('GET', `${repository}/manifests/${reference}`);
    if (response.status === 404) return undefined;
    const raw = await response.text();
    const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    return { digest, mediaType: response.headers.get('content-type') ?? JSON.parse(raw).mediaType, raw };
  }

  async blobJson(repository, digest) {
    const response = await this.request('GET', `${repository}/blobs/${digest}`);
    return response.json();
  }

  async putManifest(repository, tag, raw, mediaType) {
    await this.request('PUT', `${repository}/manifests/${tag}`, { body: raw, type: mediaType });
    return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  }

  /**
   * Copies repository:reference into another repository of the same registry, without moving a byte:
   * blobs are mounted across repositories, manifests put by digest. Tags it `tag` there.
   */
  async copyImage(from, reference, to, tag) {
    const m = await this.manifest(from, reference);
    if (!m) throw new Error(`${this.host}/${from}:${reference} is not in the registry`);
    const parsed = JSON.parse(m.raw);
    if (Array.isArray(parsed.manifests))
      for (const child of parsed.manifests) await this.copyImage(from, child.digest, to);
    else
      for (const blob of [parsed.config, ...parsed.layers]) {
        const response = await this.request(
          'POST',
          `${to}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
        );
        if (response.status !== 201)
          throw new Error(
            `${this.host}: cannot mount blob ${blob.digest} from ${from} into ${to} (${response.status})`,
          );
      }
    await this.putManifest(to, m.digest, m.raw, m.mediaType);
    if (tag) await this.putManifest(to, tag, m.raw, m.mediaType);
    return m.digest;
  }

  /**
   * Tags `sha` with an image index over the base image, annotated with the commit: the same layers under a
   * digest of its own, so each fake commit is a real image change for the Deployment. Returns the digest.
   */
  async commitImage(repository, base, sha) {
    const m = await this.manifest(repository, base);
    if (!m) throw new Error(`${this.host}/${repository}:${base} is not in the registry`);
    const parsed = JSON.parse(m.raw);
    let manifests;
    if (Array.isArray(parsed.manifests)) manifests = parsed.manifests;
    else {
      const config = await this.blobJson(repository, parsed.config.digest);
      manifests = [
        {
          mediaType: m.mediaType,
          digest: m.digest,
          size: Buffer.byteLength(m.raw),
          platform: { os: config.os, architecture: config.architecture },
        },
      ];
    }
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: indexType,
      manifests,
      annotations: { 'org.opencontainers.image.revision': sha },
    });
    return this.putManifest(repository, sha, index, indexType);
  }
}
