import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from '../../src/registry/client.js';
import { imageDigest, reusableImage, revisionLabel } from '../../src/registry/images.js';
import { buildAndPushImage, manifestDescriptor } from '../helpers/images.js';

// Which image already under a commit's tag a deploy takes instead of building (docker/build-or-reuse.ts buildOrReuse):
// only one whose config carries the label the action sets on every build, org.opencontainers.image.revision
// (OCI image-spec annotations.md), equal to the commit. Against the local target's registry (CNCF
// distribution); images are pushed with docker buildx, with the label from the Dockerfile or without, and an
// index written with a plain PUT (OCI Distribution Specification, "Pushing Manifests"). A repository per run.

const run = promisify(execFile);
const host = process.env.REGISTRY ?? '';
const auth = { username: process.env.REGISTRY_USERNAME ?? '', password: process.env.REGISTRY_PASSWORD ?? '' };
const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
const repository = `reuse-test-${randomBytes(3).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'reuse-test-'));
const env = { ...process.env, DOCKER_CONFIG: join(work, 'docker') };
const sha = (c: string) => c.repeat(40);
const tag = (t: string) => `${host}/${repository}:${t}`;

/** Builds and pushes `tag`: FROM scratch, with the revision label when `label` is given; its manifest. */
async function push(t: string, label: string | undefined, platform = 'linux/amd64') {
  const dir = join(work, `ctx-${t}-${platform.replace('/', '-')}`);
  rmSync(dir, { recursive: true, force: true });
  await run('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'marker'), `${repository} ${t} ${platform}`);
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM scratch\n${label === undefined ? '' : `LABEL ${revisionLabel}="${label}"\n`}COPY marker /\n`,
  );
  const digest = await buildAndPushImage({ context: dir, tag: tag(t), platform, attestations: false, env });
  return manifestDescriptor(host, repository, digest, basic);
}

/** PUTs an OCI index of `manifests` under `t`; its digest. */
async function putIndex(t: string, manifests: unknown[]): Promise<string> {
  const answer = await fetch(`http://${host}/v2/${repository}/manifests/${t}`, {
    method: 'PUT',
    headers: { authorization: basic, 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body: JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests,
    }),
  });
  if (answer.status !== 201) throw new Error(`PUT index: ${answer.status} ${await answer.text()}`);
  return answer.headers.get('docker-content-digest') ?? '';
}

const digests: Record<string, string> = {};

beforeAll(async () => {
  if (!host || !auth.username)
    throw new Error('REGISTRY or REGISTRY_USERNAME is not set: eval "$(scripts/local-stack env)"');
  const login = run('docker', ['login', host, '--username', auth.username, '--password-stdin'], { env });
  login.child.stdin?.end(auth.password);
  await login;
  // as the action pushes it: the commit's tag, labelled with the commit
  digests.own = (await push(sha('1'), sha('1'))).digest;
  // pushed under a commit's tag by something else: no label, or another commit's
  digests.unlabelled = (await push(sha('2'), undefined)).digest;
  digests.other = (await push(sha('3'), sha('9'))).digest;
  // a multi-platform image: an index of an amd64 and an arm64 image, each labelled, or one of them not
  const amd64 = await push(`${sha('4')}-amd64`, sha('4'));
  const arm64 = await push(`${sha('4')}-arm64`, sha('4'), 'linux/arm64');
  const labelled = await push(`${sha('5')}-amd64`, sha('5'));
  const bare = await push(`${sha('5')}-arm64`, undefined, 'linux/arm64');
  const entry = (m: typeof amd64, architecture: string) => ({
    ...m,
    platform: { os: 'linux', architecture },
  });
  digests.index = await putIndex(sha('4'), [
    entry(amd64, 'amd64'),
    entry(arm64, 'arm64'),
    // what buildx adds for provenance: runs nowhere, carries no label
    {
      ...amd64,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    },
  ]);
  digests.mixed = await putIndex(sha('5'), [entry(labelled, 'amd64'), entry(bare, 'arm64')]);
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('reusableImage', () => {
  const registry = () => new Registry(host, auth);

  it("takes the image the action built from the commit: its digest, as the commit's tag names it", async () => {
    expect(await reusableImage(registry(), tag(sha('1')), sha('1'))).toEqual({ digest: digests.own });
    expect(await imageDigest(registry(), tag(sha('1')))).toBe(digests.own);
  });

  it('takes an index whose every platform image carries the commit, attestations left aside', async () => {
    expect(await reusableImage(registry(), tag(sha('4')), sha('4'))).toEqual({ digest: digests.index });
  });

  it('refuses an image without the label, saying so', async () => {
    expect(await reusableImage(registry(), tag(sha('2')), sha('2'))).toEqual({
      reason: `its config has no ${revisionLabel} label (${digests.unlabelled}): this action did not build it`,
    });
  });

  it('refuses an image labelled with another commit, naming that commit', async () => {
    expect(await reusableImage(registry(), tag(sha('3')), sha('3'))).toEqual({
      reason: `its config has ${revisionLabel}=${sha('9')}, not this commit (${digests.other})`,
    });
  });

  it('refuses an index with one platform image unlabelled, naming the platform', async () => {
    expect(await reusableImage(registry(), tag(sha('5')), sha('5'))).toEqual({
      reason: `its linux/arm64 image has no ${revisionLabel} label (${digests.mixed}): this action did not build it`,
    });
  });

  it('says nothing when there is no such tag: a first build', async () => {
    expect(await reusableImage(registry(), tag(sha('6')), sha('6'))).toEqual({});
  });
});
