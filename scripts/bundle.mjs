// Bundles src/ into the one file action.yml runs. Usage: node scripts/bundle.mjs [outdir]
import { build } from 'esbuild';

const outdir = process.argv[2] ?? 'dist';

await build({
  entryPoints: ['src/index.ts'],
  outfile: `${outdir}/index.js`,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  // some dependencies are CommonJS and call require() for node builtins
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
