import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { LineCounter, parseAllDocuments } from 'yaml';

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

/** The objects of one YAML text; each problem goes to errors as "file:line: message". */
function parseDocuments(
  text: string,
  errors: string[],
  originOf: (line: number) => { file: string; line: number },
): Manifest[] {
  const manifests: Manifest[] = [];
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const at = originOf(lines.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0).line);
    for (const e of [...doc.errors, ...doc.warnings]) {
      const where = originOf(e.linePos?.[0]?.line ?? at.line);
      errors.push(`${where.file}:${where.line}: ${e.message.split('\n')[0]}`);
    }
    if (doc.errors.length > 0) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // e.g. an alias bomb: "Excessive alias count indicates a resource exhaustion attack"
      errors.push(`${at.file}:${at.line}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document between ---
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push(
        `${at.file}:${at.line}: a document must be a Kubernetes object (a mapping), not ${describe(value)}`,
      );
      continue;
    }
    manifests.push({ file: at.file, line: at.line, object: value as Manifest['object'] });
  }
  return manifests;
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
