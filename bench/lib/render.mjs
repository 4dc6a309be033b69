// The action's render step, bundled from src/ with esbuild on the fly (bench/lib/render-entry.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { withDefaults } from './action.mjs';
import { importBundled } from './bundled.mjs';

let module;

async function load() {
  module ??= await importBundled('bench/lib/render-entry.ts');
  return module;
}

/** Writes what the action would apply for (inputs, sha, digest) into a fresh folder, one file per object. */
export async function renderToFolder(inputs, sha, digest) {
  const { renderedObjects } = await load();
  const silence = process.stdout.write;
  process.stdout.write = () => true; // getSettings masks secrets with ::add-mask:: lines
  let objects;
  try {
    objects = renderedObjects(withDefaults(inputs), sha, digest);
  } finally {
    process.stdout.write = silence;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-kubectl-'));
  mkdirSync(dir, { recursive: true });
  for (const o of objects)
    writeFileSync(join(dir, `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`), stringify(o));
  return dir;
}
