// The action's render step, bundled from src/ with esbuild on the fly (bench/lib/render-entry.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { stringify } from 'yaml';
import { root, withDefaults } from './action.mjs';

let module;

async function load() {
  if (module) return module;
  const dir = mkdtempSync(join(tmpdir(), 'bench-render-'));
  const outfile = join(dir, 'render.mjs');
  await build({
    entryPoints: [join(root, 'bench/lib/render-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  module = await import(pathToFileURL(outfile).href);
  rmSync(dir, { recursive: true, force: true });
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
