import type { V1Container, V1PodTemplateSpec, V1Probe } from '@kubernetes/client-node';
import { sameJson } from './json.js';

// What changed between two revisions' pod templates, in the terms people change them in: images, env
// names, resources, probes, command, ports, labels and annotations, and any other pod spec field by name.
// Env values are not shown (they may be secret-ish); names are. Pure.

export interface TemplateChange {
  /** "container archetype image", "pod annotation archetype.local/fail", ... */
  field: string;
  before: string;
  after: string;
}

const none = '(none)';
const ignoredLabels = new Set(['pod-template-hash']);

export function templateDiff(
  before: V1PodTemplateSpec | undefined,
  after: V1PodTemplateSpec | undefined,
): TemplateChange[] {
  const changes: TemplateChange[] = [];
  const change = (field: string, a: string, b: string) => {
    if (a !== b) changes.push({ field, before: a, after: b });
  };
  for (const kind of ['labels', 'annotations'] as const) {
    const a = before?.metadata?.[kind] ?? {};
    const b = after?.metadata?.[kind] ?? {};
    for (const key of union(Object.keys(a), Object.keys(b)))
      if (!ignoredLabels.has(key))
        change(`pod ${kind === 'labels' ? 'label' : 'annotation'} ${key}`, a[key] ?? none, b[key] ?? none);
  }
  const containers = (t: V1PodTemplateSpec | undefined) =>
    new Map<string, V1Container>(
      [...(t?.spec?.initContainers ?? []), ...(t?.spec?.containers ?? [])].map((c) => [c.name, c]),
    );
  const ca = containers(before);
  const cb = containers(after);
  for (const name of union([...ca.keys()], [...cb.keys()])) {
    const a = ca.get(name);
    const b = cb.get(name);
    const field = (f: string) => `container ${name} ${f}`;
    if (!a || !b) {
      change(`container ${name}`, a ? `${a.image}` : none, b ? `${b.image}` : none);
      continue;
    }
    change(field('image'), a.image ?? none, b.image ?? none);
    change(field('command'), list(a.command), list(b.command));
    change(field('args'), list(a.args), list(b.args));
    const envA = new Map((a.env ?? []).map((e) => [e.name, e]));
    const envB = new Map((b.env ?? []).map((e) => [e.name, e]));
    const removed = [...envA.keys()].filter((n) => !envB.has(n));
    const added = [...envB.keys()].filter((n) => !envA.has(n));
    const altered = [...envA.keys()].filter((n) => envB.has(n) && !sameJson(envA.get(n), envB.get(n)));
    // names only: before, those that went or changed; after, what happened to each
    if (removed.length + added.length + altered.length > 0)
      change(
        field('env'),
        [...removed, ...altered].join(', ') || none,
        [
          ...removed.map((n) => `${n} (removed)`),
          ...altered.map((n) => `${n} (changed)`),
          ...added.map((n) => `${n} (added)`),
        ].join(', '),
      );
    if (!sameJson(a.envFrom ?? [], b.envFrom ?? [])) change(field('envFrom'), envFrom(a), envFrom(b));
    for (const kind of ['requests', 'limits'] as const) {
      const ra = (a.resources?.[kind] ?? {}) as Record<string, string>;
      const rb = (b.resources?.[kind] ?? {}) as Record<string, string>;
      for (const r of union(Object.keys(ra), Object.keys(rb)))
        change(field(`resources.${kind}.${r}`), String(ra[r] ?? none), String(rb[r] ?? none));
    }
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const)
      if (!sameJson(a[probe], b[probe]))
        change(field(probe), describeProbe(a[probe]), describeProbe(b[probe]));
    if (!sameJson(a.ports ?? [], b.ports ?? [])) change(field('ports'), ports(a), ports(b));
  }
  const { containers: _c, initContainers: _i, ...restA } = before?.spec ?? { containers: [] };
  const { containers: _c2, initContainers: _i2, ...restB } = after?.spec ?? { containers: [] };
  for (const key of union(Object.keys(restA), Object.keys(restB))) {
    const a = (restA as Record<string, unknown>)[key];
    const b = (restB as Record<string, unknown>)[key];
    if (!sameJson(a, b)) change(`pod spec.${key}`, short(a), short(b));
  }
  return changes;
}

/** "HTTP GET /readyz on port http every 5s" */
export function describeProbe(p: V1Probe | undefined): string {
  if (!p) return none;
  let what = 'probe';
  if (p.httpGet) what = `HTTP GET ${p.httpGet.path ?? '/'} on port ${p.httpGet.port}`;
  else if (p.tcpSocket) what = `TCP port ${p.tcpSocket.port}`;
  else if (p.grpc) what = `gRPC port ${p.grpc.port}`;
  else if (p.exec) what = `exec ${(p.exec.command ?? []).join(' ')}`;
  const timing = [
    p.initialDelaySeconds ? `after ${p.initialDelaySeconds}s` : '',
    `every ${p.periodSeconds ?? 10}s`,
    p.failureThreshold && p.failureThreshold !== 3 ? `failing after ${p.failureThreshold}` : '',
  ].filter(Boolean);
  return `${what} ${timing.join(', ')}`;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

function list(values: string[] | undefined): string {
  return values && values.length > 0 ? JSON.stringify(values) : none;
}

function envFrom(c: V1Container): string {
  return (
    (c.envFrom ?? [])
      .map((e) => (e.secretRef ? `Secret ${e.secretRef.name}` : `ConfigMap ${e.configMapRef?.name}`))
      .join(', ') || none
  );
}

function ports(c: V1Container): string {
  return (c.ports ?? []).map((p) => `${p.name ? `${p.name}=` : ''}${p.containerPort}`).join(', ') || none;
}

function short(value: unknown): string {
  if (value === undefined) return none;
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
