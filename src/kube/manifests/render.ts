import {
  changeCauseAnnotation,
  instanceLabel,
  managedBy,
  managedByLabel,
  nameLabel,
  versionLabel,
} from '../../names.js';
import type { RenderTarget } from '../../plan.js';
import { isNamespaced, kindOf } from '../kinds.js';
import type { Manifest } from './load.js';
import { where } from './load.js';

// Turns the folder's manifests into what one environment gets: image by digest, namespace, host, labels.
// Pure: the same inputs give the same objects, which is what lets server-side apply report "unchanged".

export { isNamespaced } from '../kinds.js';

type Json = Record<string, unknown>;

export function render(manifests: Manifest[], target: RenderTarget): Manifest[] {
  const errors: string[] = [];
  let imagesSet = 0;
  const labels = {
    [nameLabel]: target.appName,
    [instanceLabel]: target.instance,
    [versionLabel]: target.version,
    [managedByLabel]: managedBy,
    ...target.labels,
  };

  const rendered = manifests.map((m): Manifest => {
    const object = structuredClone(m.object) as Manifest['object'] & Json;
    object.metadata ??= {};
    const metadata = object.metadata;
    if (object.kind === 'Namespace')
      errors.push(
        `${where(m)}: remove the Namespace object; the action creates namespace '${target.namespace}'`,
      );
    if (isNamespaced(object.kind)) {
      if (metadata.namespace && metadata.namespace !== target.namespace)
        errors.push(
          `${where(m)}: metadata.namespace is '${metadata.namespace}'; remove it, the action sets the namespace (input 'namespace', or the preview's)`,
        );
      metadata.namespace = target.namespace;
    }
    for (const [path, value] of [
      ['metadata.labels', metadata.labels],
      ['metadata.annotations', metadata.annotations],
    ] as const)
      if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value)))
        errors.push(`${where(m)}: ${path} must be a mapping of name: value, not ${JSON.stringify(value)}`);
    // the app's own name label wins: selectors may use it
    metadata.labels = {
      [nameLabel]: target.appName,
      ...metadata.labels,
      ...instanceLabels(labels),
    };
    metadata.annotations = { ...metadata.annotations, ...target.annotations };

    const template = podTemplateOf(object);
    if (template) {
      template.metadata ??= {};
      const tmeta = template.metadata as Json;
      // a Job's pod template is immutable: a label that moves with each commit would refuse every
      // redeploy of an unchanged Job
      const { [versionLabel]: version, ...stable } = instanceLabels(labels);
      tmeta.labels = {
        ...(tmeta.labels as Record<string, string> | undefined),
        ...(object.kind === 'Job' ? stable : { ...stable, [versionLabel]: version }),
      };
      for (const c of containersOf(template)) {
        if (typeof c.image !== 'string') continue;
        if (matchesPlaceholder(c.image, target.imagePlaceholder)) {
          c.image = target.image;
          imagesSet++;
        } else if (!isFullReference(c.image))
          errors.push(
            `${where(m)}: ${unqualifiedImage(String(c.name ?? '?'), c.image, target.imagePlaceholder)}`,
          );
      }
    }
    if (object.kind === 'Deployment') {
      metadata.annotations[changeCauseAnnotation] = target.changeCause;
      if (target.replicas !== undefined) {
        object.spec ??= {};
        (object.spec as Json).replicas = target.replicas;
      }
    }
    if (object.kind === 'Ingress' && target.host) setIngressHost(object, target.host);
    if (object.kind === 'HTTPRoute') setRoute(object, target);
    return { ...m, object };
  });

  if (imagesSet === 0)
    errors.push(
      `no container in the manifests has image '${target.imagePlaceholder}' to replace with the built image; set a container's image to '${target.imagePlaceholder}' (or the input 'image-name')`,
    );
  if (errors.length > 0) throw new Error(`Cannot render the manifests:\n- ${errors.join('\n- ')}`);
  return rendered;
}

/** Labels the action owns on pod templates too (never the selector). version moves with each deploy. */
function instanceLabels(labels: Record<string, string>): Record<string, string> {
  const { [nameLabel]: _name, ...rest } = labels;
  return rest;
}

/** The pod template of a kind that has one (kube/kinds.ts says where: a CronJob's is in its jobTemplate). */
export function podTemplateOf(object: Json): Json | undefined {
  const path = kindOf(object.kind as string | undefined)?.podTemplate;
  if (!path) return undefined;
  let at: unknown = object;
  for (const field of path) at = at && typeof at === 'object' ? (at as Json)[field] : undefined;
  return at && typeof at === 'object' && !Array.isArray(at) ? (at as Json) : undefined;
}

export function containersOf(template: Json): Json[] {
  const spec = template.spec as Json | undefined;
  const lists = [spec?.containers, spec?.initContainers];
  return lists.flatMap((list) =>
    Array.isArray(list) ? (list.filter((c) => c && typeof c === 'object') as Json[]) : [],
  );
}

/** 'archetype', 'archetype:tag', 'reg.io/archetype@sha256:..' all stand for the image named 'archetype'. */
export function matchesPlaceholder(image: string, placeholder: string): boolean {
  const repo = repositoryOf(image);
  return repo === placeholder || repo.endsWith(`/${placeholder}`);
}

/**
 * A reference every node resolves the same way: a registry host (the first part has a '.' or ':' or is
 * 'localhost', as docker's reference grammar reads it) and a tag or digest. `redis:7` is docker.io's by
 * default, on some nodes a mirror's; `myapp` (a typo of the placeholder) would be pulled from Docker Hub.
 * A tag, `:latest` included, is accepted: the choice to pin by digest is the manifests'.
 */
export function isFullReference(image: string): boolean {
  const [name = '', digest, ...more] = image.split('@');
  if (more.length > 0) return false;
  const slash = name.indexOf('/');
  if (slash <= 0) return false;
  const host = name.slice(0, slash);
  if (!(host.includes('.') || host.includes(':') || host === 'localhost')) return false;
  if (digest !== undefined) return /^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(digest);
  const last = name.slice(name.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon > 0 && /^[\w][\w.-]{0,127}$/.test(last.slice(colon + 1));
}

function unqualifiedImage(container: string, image: string, placeholder: string): string {
  return (
    `container '${container}' has image '${image}', which is neither the image this run builds nor a full reference ` +
    `(registry host and tag or digest; a short name is pulled from docker.io, or wherever a node's runtime maps it): ` +
    `write the full reference, e.g. docker.io/library/redis:7.2 or <registry>/<repo>@sha256:..., ` +
    `or name the image '${placeholder}' to get the one this run builds`
  );
}

export function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function setIngressHost(object: Json, host: string): void {
  const spec = (object.spec ?? {}) as Json;
  const rules = Array.isArray(spec.rules) ? (spec.rules as Json[]) : [];
  for (const rule of rules) rule.host = host;
  const tls = Array.isArray(spec.tls) ? (spec.tls as Json[]) : [];
  for (const entry of tls) entry.hosts = [host];
}

/** An HTTPRoute's hostnames are the environment's host; with input 'gateway', its Gateway parents are that one. */
function setRoute(object: Json, target: Pick<RenderTarget, 'host' | 'gateway'>): void {
  object.spec ??= {};
  const spec = object.spec as Json;
  if (target.host) spec.hostnames = [target.host];
  if (!target.gateway || !Array.isArray(spec.parentRefs)) return;
  for (const ref of spec.parentRefs as Json[])
    if (
      (ref.kind ?? 'Gateway') === 'Gateway' &&
      (ref.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io'
    ) {
      ref.namespace = target.gateway.namespace;
      ref.name = target.gateway.name;
    }
}
