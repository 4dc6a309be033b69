import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from '../../src/registry/client.js';
import { addTags, imageDigest, imagePlatforms } from '../../src/registry/images.js';
import { buildAndPushImage, manifestDescriptor } from '../helpers/images.js';

// The registry adapter against the local target's two real registries (CNCF distribution): REGISTRY asks
// for Basic credentials; REGISTRY_BEARER sends clients to a token server that speaks the Docker Registry
// token authentication specification (distribution's docs/spec/auth/token.md), the flow ACR's
// /oauth2/token follows (Azure/acr docs/AAD-OAuth.md). Both serve the same storage. Images are pushed with
// docker buildx (its docker driver builds one platform at a time); the index that names both is written
// with a plain PUT, as the OCI Distribution Specification describes ("Pushing Manifests"). Each run uses a
// repository of its own.

const run = promisify(execFile);
const basicHost = process.env.REGISTRY ?? '';
const bearerHost = process.env.REGISTRY_BEARER ?? '';
const auth = { username: process.env.REGISTRY_USERNAME ?? '', password: process.env.REGISTRY_PASSWORD ?? '' };
const repository = `registry-test-${randomBytes(3).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'registry-test-'));
const env = { ...process.env, DOCKER_CONFIG: join(work, 'docker') };

/** The arm64 image manifest, and an index of it, the amd64 one and an attestation entry. */
const images = { single: '', index: '' };

async function push(
  tag: string,
  platform: string,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const digest = await buildAndPushImage({
    context: work,
    tag: `${basicHost}/${repository}:${tag}`,
    platform,
    attestations: false,
    env,
  });
  return manifestDescriptor(basicHost, repository, digest, basic);
}

const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;

/** PUTs an OCI index of the given manifests under `tag`; its digest. */
async function putIndex(tag: string, manifests: unknown[]): Promise<string> {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests,
  });
  const answer = await fetch(`http://${basicHost}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { authorization: basic, 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body,
  });
  if (answer.status !== 201) throw new Error(`PUT index: ${answer.status} ${await answer.text()}`);
  return answer.headers.get('docker-content-digest') ?? '';
}

beforeAll(async () => {
  if (!basicHost || !bearerHost || !auth.username)
    throw new Error(
      'REGISTRY, REGISTRY_BEARER or REGISTRY_USERNAME is not set: eval "$(scripts/local-stack env)"',
    );
  // no RUN step: the image builds for any platform without emulation
  writeFileSync(join(work, 'Dockerfile'), `FROM scratch\nCOPY marker /\n`);
  writeFileSync(join(work, 'marker'), repository);
  const login = run('docker', ['login', basicHost, '--username', auth.username, '--password-stdin'], { env });
  login.child.stdin?.end(auth.password);
  await login;
  const arm64 = await push('single', 'linux/arm64');
  const amd64 = await push('amd64', 'linux/amd64');
  images.single = arm64.digest;
  images.index = await putIndex('index', [
    { ...amd64, platform: { os: 'linux', architecture: 'amd64' } },
    { ...arm64, platform: { os: 'linux', architecture: 'arm64' } },
    // what buildx adds for provenance: it runs nowhere
    {
      ...amd64,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: {
        'vnd.docker.reference.type': 'attestation-manifest',
        'vnd.docker.reference.digest': amd64.digest,
      },
    },
  ]);
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe.each([
  ['Basic', () => basicHost],
  ['Bearer token', () => bearerHost],
])('%s registry', (_kind, hostOf) => {
  const host = () => hostOf();

  it('imageDigest: the digest a tag names, as docker pushed it; undefined for a tag or repository it lacks', async () => {
    const registry = new Registry(host(), auth);
    expect(await imageDigest(registry, `${host()}/${repository}:single`)).toBe(images.single);
    expect(await imageDigest(registry, `${host()}/${repository}:index`)).toBe(images.index);
    expect(await imageDigest(registry, `${host()}/${repository}:no-such-tag`)).toBeUndefined();
    expect(await imageDigest(registry, `${host()}/${repository}-none:latest`)).toBeUndefined();
  });

  it('imagePlatforms: an image manifest by its config blob, an index by its entries without attestations', async () => {
    const registry = new Registry(host(), auth);
    expect(await imagePlatforms(registry, `${host()}/${repository}@${images.single}`)).toEqual([
      { os: 'linux', architecture: 'arm64' },
    ]);
    expect(await imagePlatforms(registry, `${host()}/${repository}@${images.index}`)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
  });

  it('addTags: the new tags name the same digest, for an image manifest and an index', async () => {
    const registry = new Registry(host(), auth);
    await addTags(registry, `${host()}/${repository}@${images.single}`, [
      `${host()}/${repository}:moved-1`,
      `${host()}/${repository}:moved-2`,
    ]);
    await addTags(registry, `${host()}/${repository}@${images.index}`, [
      `${host()}/${repository}:moved-index`,
    ]);
    const fresh = new Registry(host(), auth);
    expect(await imageDigest(fresh, `${host()}/${repository}:moved-1`)).toBe(images.single);
    expect(await imageDigest(fresh, `${host()}/${repository}:moved-2`)).toBe(images.single);
    expect(await imageDigest(fresh, `${host()}/${repository}:moved-index`)).toBe(images.index);
  });

  it('a wrong password fails with the registry credentials named', async () => {
    const registry = new Registry(host(), { username: auth.username, password: 'wrong' });
    await expect(imageDigest(registry, `${host()}/${repository}:single`)).rejects.toThrow(
      /401.*check the registry credentials \(inputs registry-username\/registry-password/,
    );
  });

  it('no credentials: says the registry wants some', async () => {
    await expect(imageDigest(new Registry(host()), `${host()}/${repository}:single`)).rejects.toThrow(
      /the registry wants credentials \(401\), and none were given: set inputs registry-username and registry-password/,
    );
  });
});

it('a registry that does not listen fails after its bounded retries, naming the URL', async () => {
  const registry = new Registry('127.0.0.1:9');
  await expect(imageDigest(registry, '127.0.0.1:9/x:latest')).rejects.toThrow(
    /HEAD http:\/\/127\.0\.0\.1:9\/v2\/x\/manifests\/latest: (no answer from the registry|cannot reach the registry)/,
  );
});
