import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { constructFromEvents, EVENT_ID, type Event, parseEvents, YAMLException } from 'js-yaml';
import { errorText } from '../../util/errors.js';

/** One object from the manifests folder, with where it came from for error messages. */
export interface Manifest {
  file: string;
  line: number;
  object: KubernetesObject & Record<string, unknown>;
}

/** What renders a manifests folder: a Kustomize overlay, a Helm chart, or nothing (plain YAML). */
export type Renderer = 'kustomize' | 'helm';

export function rendererOf(dir: string): Renderer | undefined {
  if (existsSync(join(dir, 'kustomization.yaml')) || existsSync(join(dir, 'kustomization.yml')))
    return 'kustomize';
  if (existsSync(join(dir, 'Chart.yaml'))) return 'helm';
  return undefined;
}

export function checkManifestsFolder(dir: string, root = process.cwd()): void {
  if (!existsSync(dir))
    throw new Error(
      `input 'manifests': there is no folder '${dir}' in ${root}${dir === 'k8s' ? " ('k8s' is the default, this action's own repository's layout)" : ''}: set manifests to the folder of your Kubernetes YAML, relative to the repository's root`,
    );
}

/** Loads every .yaml/.yml under dir (sorted, recursive); throws one error listing every YAML problem. */
export function loadManifests(dir: string, root = process.cwd()): Manifest[] {
  checkManifestsFolder(dir, root);
  const files = listYaml(dir);
  if (files.length === 0) throw new Error(`input 'manifests': no .yaml or .yml files in '${dir}'`);
  const errors: string[] = [];
  const manifests = files.flatMap((path) =>
    parseDocuments(readFileSync(path, 'utf8'), errors, (line) => ({
      file: relative(root, path) || path,
      line,
    })),
  );
  if (errors.length > 0) throw new Error(`Invalid YAML in the manifests:\n- ${errors.join('\n- ')}`);
  if (manifests.length === 0)
    throw new Error(`input 'manifests': the YAML files in '${dir}' hold no objects`);
  return manifests;
}

/**
 * The objects of a renderer's output. Helm says where each came from (`# Source: <chart>/templates/x.yaml`):
 * that template, under the chart's folder, with the line in its rendered text; kustomize does not, so its
 * objects are placed in its output.
 */
export function loadRendered(text: string, dir: string, renderer: Renderer): Manifest[] {
  const sources = renderer === 'helm' ? helmSources(text) : [];
  const origin = (line: number) => {
    const source = sources.findLast((s) => s.line < line);
    if (!source) return { file: `${dir} (${renderer} output)`, line };
    return { file: `${join(dir, source.path)} (rendered)`, line: line - source.line };
  };
  const errors: string[] = [];
  const manifests = parseDocuments(text, errors, origin);
  if (errors.length > 0)
    throw new Error(`Invalid YAML in the output of ${renderer} for '${dir}':\n- ${errors.join('\n- ')}`);
  if (manifests.length === 0)
    throw new Error(`input 'manifests': ${renderer} rendered no objects from '${dir}'`);
  return manifests;
}

/** The `# Source:` comment lines of helm template's output: the template path under the chart's folder. */
function helmSources(text: string): { line: number; path: string }[] {
  return text.split('\n').flatMap((l, i) => {
    const m = /^# Source: [^/]+\/(.+)$/.exec(l.trim());
    return m?.[1] ? [{ line: i + 1, path: m[1] }] : [];
  });
}

/** The objects of one YAML text; a problem goes to errors as "file:line: message" (the first of the text). */
function parseDocuments(
  text: string,
  errors: string[],
  originOf: (line: number) => { file: string; line: number },
): Manifest[] {
  let events: Event[];
  let values: unknown[];
  try {
    events = parseEvents(text, {});
    values = constructFromEvents(events, { source: text, maxAliases });
  } catch (error) {
    const where = originOf(error instanceof YAMLException && error.mark ? error.mark.line + 1 : 1);
    const reason = error instanceof YAMLException ? error.reason : errorText(error);
    const message = /maxAliases/.test(reason)
      ? `more than ${maxAliases} aliases (*name) in one document (an alias bomb?): write the values out`
      : reason;
    errors.push(`${where.file}:${where.line}: ${message.split('\n')[0]}`);
    return [];
  }
  const lines = lineOf(text);
  const starts = documentStarts(events);
  const aliased = events.some((e) => e.type === EVENT_ID.ALIAS);
  const manifests: Manifest[] = [];
  values.forEach((value, i) => {
    const at = originOf(lines(starts[i] ?? 0));
    if (value === null || value === undefined) return; // an empty document between ---
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push(
        `${at.file}:${at.line}: a document must be a Kubernetes object (a mapping), not ${describe(value)}`,
      );
      return;
    }
    // aliases share one value: a few may expand into billions when the object is sent (an alias bomb)
    if (aliased && expandsBeyond(value, maxExpandedValues)) {
      errors.push(
        `${at.file}:${at.line}: its aliases expand into more than ${maxExpandedValues} values (an alias bomb?): write the values out`,
      );
      return;
    }
    manifests.push({ file: at.file, line: at.line, object: value as Manifest['object'] });
  });
  return manifests;
}

/** How many aliases (*name) a document may use, and how many values they may expand it into. */
const maxAliases = 100;
const maxExpandedValues = 100_000;

/** The offset where each document's content starts (its first node), in order. */
function documentStarts(events: Event[]): number[] {
  const starts: number[] = [];
  events.forEach((event, i) => {
    if (event.type !== EVENT_ID.DOCUMENT) return;
    const root = events[i + 1];
    starts.push(root ? startOf(root) : -1);
  });
  return starts;
}

function startOf(event: Event): number {
  switch (event.type) {
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return event.anchorStart >= 0 ? event.anchorStart : event.start;
    case EVENT_ID.SCALAR:
      return event.valueStart;
    case EVENT_ID.ALIAS:
      return event.anchorStart;
    default:
      return -1;
  }
}

/** The 1-based line of an offset in text (the first line for -1). */
function lineOf(text: string): (offset: number) => number {
  const breaks: number[] = [];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) breaks.push(i);
  return (offset) => {
    if (offset < 0) return 1;
    let low = 0;
    let high = breaks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((breaks[mid] ?? 0) < offset) low = mid + 1;
      else high = mid;
    }
    return low + 1;
  };
}

/** Whether walking value, each shared value as often as it is referred to, visits more than limit values. */
function expandsBeyond(value: unknown, limit: number): boolean {
  let visited = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (++visited > limit) return true;
    if (next && typeof next === 'object') stack.push(...Object.values(next));
  }
  return false;
}

function listYaml(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (error) {
    throw new Error(
      `input 'manifests': cannot read folder '${dir}' (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listYaml(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

/** "Kind/name" as people read it in messages. */
export function ref(m: Manifest): string {
  return `${m.object.kind ?? '?'}/${m.object.metadata?.name ?? '?'}`;
}

export function where(m: Manifest): string {
  return `${m.file}:${m.line} ${ref(m)}`;
}
