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

/** Loads every .yaml/.yml under dir (sorted, recursive); throws one error listing every YAML problem. */
export function loadManifests(dir: string, root = process.cwd()): Manifest[] {
  if (!existsSync(dir))
    throw new Error(
      `input 'manifests': there is no folder '${dir}' in ${root}${dir === 'k8s' ? " ('k8s' is the default, this action's own repository's layout)" : ''}: set manifests to the folder of your Kubernetes YAML, relative to the repository's root`,
    );
  for (const [marker, tool] of [
    ['kustomization.yaml', 'a Kustomize overlay: render it first (kustomize build'],
    ['Chart.yaml', 'a Helm chart: render it first (helm template'],
  ] as const)
    if (existsSync(join(dir, marker)))
      throw new Error(
        `input 'manifests': '${dir}' is ${tool} ${dir} > rendered/all.yaml) and set manifests to the folder of the rendered YAML; the action applies plain manifests`,
      );
  const files = listYaml(dir);
  if (files.length === 0) throw new Error(`input 'manifests': no .yaml or .yml files in '${dir}'`);
  const manifests: Manifest[] = [];
  const errors: string[] = [];
  for (const path of files) {
    const file = relative(root, path) || path;
    const lines = new LineCounter();
    const docs = parseAllDocuments(readFileSync(path, 'utf8'), { lineCounter: lines, uniqueKeys: true });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      const line = lines.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0).line;
      for (const e of [...doc.errors, ...doc.warnings]) {
        const at = e.linePos?.[0]?.line ?? line;
        errors.push(`${file}:${at}: ${e.message.split('\n')[0]}`);
      }
      if (doc.errors.length > 0) continue;
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        // e.g. an alias bomb: "Excessive alias count indicates a resource exhaustion attack"
        errors.push(`${file}:${line}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (value === null || value === undefined) continue; // an empty document between ---
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.push(
          `${file}:${line}: a document must be a Kubernetes object (a mapping), not ${describe(value)}`,
        );
        continue;
      }
      manifests.push({ file, line, object: value as Manifest['object'] });
    }
  }
  if (errors.length > 0) throw new Error(`Invalid YAML in the manifests:\n- ${errors.join('\n- ')}`);
  if (manifests.length === 0)
    throw new Error(`input 'manifests': the YAML files in '${dir}' hold no objects`);
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
