import { createHash } from 'node:crypto';
import type { ImagePlatform } from '../util/platform.js';
import { quote, type Registry, type RegistryAnswer } from './client.js';
import { configPlatform, indexPlatforms, type RawManifest } from './platforms.js';
import { parseReference } from './reference.js';

// What the action asks a registry about its images: the digest a tag names, the platforms an image runs
// on, whether the image under a commit's tag was built from that commit, and more tags for an image already
// there.

const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The digest the registry holds for a reference, or undefined when it has none. */
export async function imageDigest(registry: Registry, reference: string): Promise<string | undefined> {
  const ref = parseReference(reference);
  const answer = await registry.request('HEAD', ref.repository, `manifests/${ref.reference}`, {
    headers: { accept: manifestTypes },
  });
  if (answer.status === 404) return undefined;
  expectOk(answer, `cannot read ${reference} from the registry`);
  const digest = answer.headers.get('docker-content-digest');
  if (digest?.startsWith('sha256:')) return digest;
  // the header is optional in the specification: the digest of the manifest's own bytes is the same
  return digestOf((await manifest(registry, reference)).body);
}

/** The platforms the image `reference` (host/name@sha256:…) runs on. */
export async function imagePlatforms(registry: Registry, reference: string): Promise<ImagePlatform[]> {
  const raw = parse<RawManifest>((await manifest(registry, reference)).body, reference);
  const fromIndex = indexPlatforms(raw);
  if (fromIndex) return fromIndex;
  return configPlatform(await imageConfig(registry, reference));
}

/** The OCI label the action sets on every build (plan.ts): the commit the image was built from. */
export const revisionLabel = 'org.opencontainers.image.revision';

/** `digest` when the image a tag names may be deployed as is; otherwise why not (none: no such tag). */
export type Reuse = { digest: string; reason?: undefined } | { digest?: undefined; reason?: string };

/**
 * Whether the image `tag` (host/name:<sha>) is one this action built from `revision`, and may be deployed
 * instead of building it again: its config (for an index, the config of every image it names for a
 * platform) carries the label org.opencontainers.image.revision with that commit. An image that someone or
 * something else pushed under the tag (by hand, another tool, a retag) lacks it or names another commit:
 * the reason says which. What is checked is the image the digest names, the one that would be deployed.
 */
export async function reusableImage(registry: Registry, tag: string, revision: string): Promise<Reuse> {
  const { host, repository, reference } = parseReference(tag);
  // one GET by tag gives the digest and the manifest it names (a HEAD and a GET by digest would ask twice)
  const answer = await registry.request('GET', repository, `manifests/${reference}`, {
    headers: { accept: manifestTypes },
  });
  if (answer.status === 404) return {};
  expectOk(answer, `cannot read ${tag} from the registry`);
  const digest = digestOf(answer.body);
  const byDigest = (d: string) => `${host}/${repository}@${d}`;
  remember(registry, byDigest(digest), answer);
  const top = parse<RawManifest>(answer.body, tag);
  // an index: every image it names for a platform (attestations run nowhere and carry no labels)
  const images = indexPlatforms(top)
    ? (top.manifests ?? [])
        .filter((m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest')
        .filter((m) => m.digest && m.platform?.os && m.platform.os !== 'unknown')
        .map((m) => ({
          what: `its ${m.platform?.os}/${m.platform?.architecture}${m.platform?.variant ? `/${m.platform.variant}` : ''} image`,
          reference: byDigest(m.digest ?? ''),
        }))
    : [{ what: 'its config', reference: byDigest(digest) }];
  if (images.length === 0) return { reason: `it is an index that names no image for a platform (${digest})` };
  for (const { what, reference } of images) {
    const label = (await imageConfig(registry, reference)).config?.Labels?.[revisionLabel];
    if (!label)
      return { reason: `${what} has no ${revisionLabel} label (${digest}): this action did not build it` };
    if (label !== revision)
      return { reason: `${what} has ${revisionLabel}=${label}, not this commit (${digest})` };
  }
  return { digest };
}

/** The config blob of the image manifest `reference` (host/name@sha256:…). */
interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  config?: { Labels?: Record<string, string> | null };
}

async function imageConfig(registry: Registry, reference: string): Promise<ImageConfig> {
  const raw = parse<RawManifest>((await manifest(registry, reference)).body, reference);
  const config = raw.config?.digest;
  if (!config) throw new Error(`the registry's manifest of ${reference} names no config blob`);
  const { repository } = parseReference(reference);
  const answer = await byContent(registry, `${repository}/blobs/${config}`, async () => {
    const got = await registry.request('GET', repository, `blobs/${config}`);
    expectOk(got, `cannot read the config of ${reference} from the registry`);
    return got;
  });
  return parse(answer.body, `${reference}'s config`);
}

/**
 * Points more tags (host/name:tag, in the image's repository) at `image` (host/name@sha256:…), as a carbon
 * copy: the same manifest bytes, so each tag resolves to the same digest, which is how a rollback finds the
 * revision a tag names.
 */
export async function addTags(registry: Registry, image: string, tags: string[]): Promise<void> {
  if (tags.length === 0) return;
  const { repository } = parseReference(image);
  const source = await manifest(registry, image);
  const mediaType = source.headers.get('content-type') ?? '';
  for (const tag of tags) {
    const target = parseReference(tag);
    if (target.repository !== repository)
      throw new Error(`cannot tag ${image} as ${tag}: a tag must be in the image's own repository`);
    const answer = await registry.request('PUT', repository, `manifests/${target.reference}`, {
      push: true,
      headers: { 'content-type': mediaType },
      body: source.body,
    });
    expectOk(answer, `cannot tag ${image} as ${tag}`);
  }
}

async function manifest(registry: Registry, reference: string): Promise<RegistryAnswer> {
  const ref = parseReference(reference);
  const get = async () => {
    const answer = await registry.request('GET', ref.repository, `manifests/${ref.reference}`, {
      headers: { accept: manifestTypes },
    });
    expectOk(answer, `cannot read the manifest of ${reference} from the registry`);
    return answer;
  };
  // by digest, the content cannot change: the reuse check, preflight and the tags share one answer
  return ref.reference.startsWith('sha256:')
    ? byContent(registry, `${ref.repository}/manifests/${ref.reference}`, get)
    : get();
}

// What a registry serves by digest is the same bytes for ever: one run asks for each once. Per Registry
// object, so another registry or credentials never share an answer; failures are not kept.
const served = new WeakMap<Registry, Map<string, Promise<RegistryAnswer>>>();

function byContent(
  registry: Registry,
  key: string,
  get: () => Promise<RegistryAnswer>,
): Promise<RegistryAnswer> {
  let answers = served.get(registry);
  if (!answers) {
    answers = new Map();
    served.set(registry, answers);
  }
  const known = answers.get(key);
  if (known) return known;
  const answer = get();
  answers.set(key, answer);
  answer.catch(() => answers.delete(key));
  return answer;
}

/** Keeps a manifest fetched by tag as the answer for its digest (host/name@sha256:…). */
function remember(registry: Registry, reference: string, answer: RegistryAnswer): void {
  const ref = parseReference(reference);
  void byContent(registry, `${ref.repository}/manifests/${ref.reference}`, async () => answer);
}

function expectOk(answer: RegistryAnswer, what: string): void {
  if (answer.status >= 200 && answer.status < 300) return;
  const hint =
    answer.status === 401 || answer.status === 403
      ? ": check the registry credentials (inputs registry-username/registry-password, or the Azure identity's AcrPull/AcrPush role for ACR)"
      : '';
  throw new Error(`${what}: ${answer.status} ${quote(answer.body)}${hint}`);
}

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function parse<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (error) {
    throw new Error(`the registry's answer for ${what} is not JSON: ${quote(body)}`, { cause: error });
  }
}
