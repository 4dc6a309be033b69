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
   * Tags `sha` with an image index over the base image whose config carries the commit's revision label, as
   * the action's build would label it: the same layers under a digest of its own, so each fake commit is a
   * real image change for the Deployment, and one the action reuses instead of building (as a rerun does).
   * Returns the digest.
   */
  async commitImage(repository, base, sha) {
    const m = await this.manifest(repository, base);
    if (!m) throw new Error(`${this.host}/${repository}:${base} is not in the registry`);
    const parsed = JSON.parse(m.raw);
    const children = Array.isArray(parsed.manifests)
      ? parsed.manifests.filter((d) => d.platform?.os && d.platform.os !== 'unknown')
      : [{ mediaType: m.mediaType, digest: m.digest }];
    const manifests = [];
    for (const child of children) {
      const image = await this.manifest(repository, child.digest);
      const imageJson = JSON.parse(image.raw);
      const config = await this.blobJson(repository, imageJson.config.digest);
      config.config = {
        ...config.config,
        Labels: { ...config.config?.Labels, 'org.opencontainers.image.revision': sha },
      };
      const configRaw = JSON.stringify(config);
      const configDigest = await this.putBlob(repository, configRaw);
      const raw = JSON.stringify({
        ...imageJson,
        config: { ...imageJson.config, digest: configDigest, size: Buffer.byteLength(configRaw) },
      });
      const digest = await this.putManifest(repository, digestOf(raw), raw, image.mediaType);
      manifests.push({
        mediaType: image.mediaType,
        digest,
        size: Buffer.byteLength(raw),
        platform: child.platform ?? { os: config.os, architecture: config.architecture },
      });
    }
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: indexType,
      manifests,
      annotations: { 'org.opencontainers.image.revision': sha },
    });
    return this.putManifest(repository, sha, index, indexType);
  }

  /** Uploads a blob in one request (POST, then PUT with its digest); returns the digest. */
  async putBlob(repository, raw) {
    const digest = digestOf(raw);
    const started = await this.request('POST', `${repository}/blobs/uploads/`);
    const location = started.headers.get('location');
    if (started.status !== 202 || !location)
      throw new Error(`${this.host}: cannot start a blob upload in ${repository} (${started.status})`);
    const url = new URL(location, `http://${this.host}`);
    url.searchParams.set('digest', digest);
    const put = await fetch(url, {
      method: 'PUT',
      headers: { Authorization: this.auth, 'Content-Type': 'application/octet-stream' },
      body: raw,
      signal: AbortSignal.timeout(30_000),
    });
    if (put.status !== 201)
      throw new Error(`${this.host}: blob upload to ${repository}: ${put.status} ${await put.text()}`);
    return digest;
  }
}

function digestOf(raw) {
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}
