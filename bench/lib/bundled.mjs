// A TypeScript module of src/ or test/ imported by the benchmark: bundled with esbuild into a temporary file
// and imported from there, since Node's type stripping cannot follow their imports (.js names for .ts files).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { root } from './action.mjs';

/** The module at `entry` (relative to the repository), with every import bundled in. */
export async function importBundled(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundled-'));
  try {
    const outfile = join(dir, 'module.mjs');
    await build({
      entryPoints: [join(root, entry)],
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
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
