import { preDeployAnnotation } from '../../names.js';
import { kindOf } from '../kinds.js';
import { smokeAnnotationProblems } from '../reach/smoke-plan.js';
import type { Manifest } from './load.js';
import { where } from './load.js';
import { containersOf, podTemplateOf } from './render.js';
import { type Requirement, requirementMatches, selectorString } from './selector.js';
import { checkHttpRoute } from './validate-route.js';

// Checks the set as a whole before anything is applied: the mistakes the write-up made by hand (selectors
// that match nothing, a Service port that leads nowhere) fail here, naming the file, with nothing applied.

type Json = Record<string, unknown>;

const dns1123Subdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^(?=.{1,63}$)[a-z]([-a-z0-9]*[a-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// larger objects pass a server-side dry-run (which never reaches etcd) and fail on the real write
const maxObjectBytes = 2 ** 20;

export function validate(manifests: Manifest[]): void {
  const errors: string[] = [];
  const seen = new Map<string, Manifest>();
  for (const m of manifests) {
    const fail = (message: string) => errors.push(`${where(m)}: ${message}`);
    const o = m.object as Json;
    const metadata = (o.metadata ?? {}) as Json;
    if (typeof o.apiVersion !== 'string' || !o.apiVersion) fail('apiVersion is missing');
    if (typeof o.kind !== 'string' || !o.kind) fail('kind is missing');
    if (typeof metadata.name !== 'string' || !metadata.name) {
      fail('metadata.name is missing');
      continue;
    }
    const nameRule = o.kind === 'Service' ? dns1035Label : dns1123Subdomain;
    if (!nameRule.test(metadata.name))
      fail(
        `metadata.name '${metadata.name}' is not a valid name (lowercase letters, digits and '-'${o.kind === 'Service' ? ', starting with a letter, at most 63' : ''})`,
      );
    const bytes = Buffer.byteLength(JSON.stringify(o));
    if (bytes > maxObjectBytes)
      fail(
        `is ${(bytes / 2 ** 20).toFixed(1)} MiB as JSON; Kubernetes stores an object of at most ${maxObjectBytes / 2 ** 20} MiB (etcd's request limit is 1.5 MiB, ConfigMap and Secret data 1 MiB): split it or mount the data another way`,
      );
    checkStringMap(metadata.labels, 'metadata.labels', fail, true);
    checkStringMap(metadata.annotations, 'metadata.annotations', fail, false);
    checkPreDeploy(o.kind, metadata.annotations, fail);
    // a bad smoke annotation stops here, not after the rollout (where it would restore the previous release)
    if (o.kind === 'Service')
      for (const problem of smokeAnnotationProblems(
        metadata.annotations as Record<string, string> | undefined,
      ))
        fail(problem);
    const key = `${o.kind}/${metadata.name}`;
    const earlier = seen.get(key);
    if (earlier) fail(`is defined twice (also at ${earlier.file}:${earlier.line})`);
    seen.set(key, m);
  }

  const workloads = manifests.filter((m) => podTemplateOf(m.object as Json) !== undefined);
  for (const m of workloads) checkWorkload(m, (message) => errors.push(`${where(m)}: ${message}`));
  const services = manifests.filter((m) => m.object.kind === 'Service');
  for (const m of services) checkService(m, workloads, (message) => errors.push(`${where(m)}: ${message}`));
  for (const m of manifests.filter((m) => m.object.kind === 'Ingress'))
    checkIngress(m, services, (message) => errors.push(`${where(m)}: ${message}`));
  for (const m of manifests.filter((m) => m.object.kind === 'HTTPRoute'))
    checkHttpRoute(m, services, (message) => errors.push(`${where(m)}: ${message}`));

  if (errors.length > 0)
    throw new Error(`Invalid manifests (nothing was applied):\n- ${errors.join('\n- ')}`);
}

function checkPreDeploy(kind: unknown, annotations: unknown, fail: (m: string) => void): void {
  const value = (annotations as Record<string, unknown> | undefined)?.[preDeployAnnotation];
  if (value === undefined) return;
  const at = `metadata.annotations['${preDeployAnnotation}']`;
  if (value !== 'true' && value !== 'false')
    fail(
      `${at} is ${JSON.stringify(value)}; it takes "true" (written and, for a Job, run to completion before the rest) or "false"`,
    );
  // what serves traffic or stays running is rolled out after the pre-deploy stage, never in it
  else if (value === 'true' && kindOf(String(kind))?.longRunning)
    fail(
      `${at}: a ${kind} cannot be pre-deploy; mark the Job that must run first (and the ConfigMaps, Secrets or ServiceAccount it needs), and leave the ${kind} to the rollout`,
    );
}

function checkStringMap(value: unknown, path: string, fail: (m: string) => void, isLabels: boolean): void {
  if (value === undefined) return;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${path} must be a mapping`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${path}.${k} is ${JSON.stringify(v)}, not a string; quote it`);
    else if (isLabels && (v.length > 63 || !labelValue.test(v)))
      fail(`${path}.${k} '${v}' is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)`);
  }
}

function templateLabels(m: Manifest): Record<string, string> {
  const template = podTemplateOf(m.object as Json) ?? {};
  return ((template.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>;
}

function checkWorkload(m: Manifest, fail: (message: string) => void): void {
  const o = m.object as Json;
  const spec = (o.spec ?? {}) as Json;
  const template = podTemplateOf(o) ?? {};
  const labels = templateLabels(m);
  if (kindOf(o.kind as string | undefined)?.selector) {
    const selector = spec.selector as Json | undefined;
    const matchLabels = (selector?.matchLabels ?? {}) as Record<string, string>;
    const expressions = (selector?.matchExpressions ?? []) as Json[];
    if (!selector || (Object.keys(matchLabels).length === 0 && expressions.length === 0))
      fail('spec.selector.matchLabels is missing; it must match spec.template.metadata.labels');
    else {
      const mismatched = Object.entries(matchLabels).filter(([k, v]) => labels[k] !== v);
      if (mismatched.length > 0)
        fail(
          `spec.selector.matchLabels ${format(Object.fromEntries(mismatched))} does not match the pod template's labels ${format(labels)}; the Deployment would own no pods`,
        );
      for (const e of expressions)
        if (!requirementMatches(e as unknown as Requirement, labels[String(e.key)]))
          fail(
            `spec.selector.matchExpressions ${JSON.stringify(e)} does not match the pod template's labels`,
          );
    }
    if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || (spec.replicas as number) < 0))
      fail(`spec.replicas is ${JSON.stringify(spec.replicas)}, not a whole number`);
  }
  const containers = containersOf(template);
  if (containers.length === 0) fail('spec.template.spec.containers is empty');
  const names = new Set<string>();
  for (const c of containers) {
    const name = typeof c.name === 'string' ? c.name : '';
    if (!name) fail('a container has no name');
    else if (names.has(name)) fail(`container name '${name}' is used twice`);
    names.add(name);
    if (typeof c.image !== 'string' || !c.image) fail(`container '${name}' has no image`);
    for (const p of (Array.isArray(c.ports) ? c.ports : []) as Json[]) {
      const port = p.containerPort;
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
        fail(`container '${name}' has containerPort ${JSON.stringify(port)}; use a number from 1 to 65535`);
    }
  }
}

function checkService(m: Manifest, workloads: Manifest[], fail: (message: string) => void): void {
  const spec = (m.object as Json).spec as Json | undefined;
  const selector = (spec?.selector ?? {}) as Record<string, string>;
  const ports = (Array.isArray(spec?.ports) ? spec.ports : []) as Json[];
  if (Object.keys(selector).length === 0) return; // a Service without selector has manual endpoints
  const matched = workloads.filter((w) =>
    Object.entries(selector).every(([k, v]) => templateLabels(w)[k] === v),
  );
  if (matched.length === 0) {
    const known = workloads.map(
      (w) => `${w.object.kind}/${w.object.metadata?.name} has ${format(templateLabels(w))}`,
    );
    fail(
      `spec.selector ${format(selector)} matches no pod template in the set${known.length ? ` (${known.join('; ')})` : ''}; the Service would have no endpoints`,
    );
    return;
  }
  const containerPorts = matched.flatMap((w) =>
    containersOf(podTemplateOf(w.object as Json) ?? {}).flatMap(
      (c) => (Array.isArray(c.ports) ? c.ports : []) as Json[],
    ),
  );
  for (const p of ports) {
    const target = p.targetPort ?? p.port;
    if (typeof target === 'string') {
      if (!containerPorts.some((cp) => cp.name === target))
        fail(
          `port ${p.port} targets the container port named '${target}', which no container of ${names(matched)} declares`,
        );
    } else if (containerPorts.length > 0 && !containerPorts.some((cp) => cp.containerPort === target)) {
      fail(
        `port ${p.port} targets ${target}, but ${names(matched)} listens on ${containerPorts.map((cp) => cp.containerPort).join(', ')}; set targetPort to the containerPort`,
      );
    }
  }
}

function checkIngress(m: Manifest, services: Manifest[], fail: (message: string) => void): void {
  const spec = ((m.object as Json).spec ?? {}) as Json;
  const backends: Json[] = [];
  if (spec.defaultBackend) backends.push(spec.defaultBackend as Json);
  for (const rule of (Array.isArray(spec.rules) ? spec.rules : []) as Json[])
    for (const path of ((rule.http as Json | undefined)?.paths ?? []) as Json[])
      if (path.backend) backends.push(path.backend as Json);
  for (const backend of backends) {
    const service = backend.service as Json | undefined;
    if (!service) continue;
    const target = services.find((s) => s.object.metadata?.name === service.name);
    if (!target) {
      fail(
        `backend service '${String(service.name)}' is not in the set (Services: ${services.map((s) => s.object.metadata?.name).join(', ') || 'none'})`,
      );
      continue;
    }
    const port = (service.port ?? {}) as Json;
    const ports = (((target.object as Json).spec as Json | undefined)?.ports ?? []) as Json[];
    const found =
      port.number !== undefined
        ? ports.some((p) => p.port === port.number)
        : ports.some((p) => p.name === port.name);
    if (!found)
      fail(
        `backend port ${JSON.stringify(port.number ?? port.name)} is not a port of Service/${target.object.metadata?.name} (it has ${ports.map((p) => p.port).join(', ')})`,
      );
  }
}

function format(labels: Record<string, string>): string {
  return selectorString({ matchLabels: labels }) || '{}';
}

function names(workloads: Manifest[]): string {
  return workloads.map((w) => `${w.object.kind}/${w.object.metadata?.name}`).join(', ');
}
