// Bundles src/ into what action.yml runs: dist/index.js, its sourcemap (stack traces name src/ files and
// lines), and dist/licenses.txt, the licence of every package bundled into it. Code that src/ imports with
// import() (Azure, octokit) goes into chunks beside index.js, loaded only by the runs that use it.
// Beside it, dist/setup.js: the `archetype-deploy setup` command (package.json's bin), one file built apart,
// so that none of its code (the Azure management SDKs) moves into index.js or the chunks the action loads.
// Usage: node scripts/bundle.mjs [outdir]
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const outdir = process.argv[2] ?? 'dist';

// only what this build writes: a chunk of an earlier build must not linger
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

// @kubernetes/client-node declares no "sideEffects", so a bundler keeps every module its index reaches: ~1.1 MB
// of generated API classes and models that src/ never calls (kube/client/client.ts uses the kubeconfig, auth,
// transport and Watch). Its modules only define classes and functions; the one exception, a polyfill for
// Node 18, is kept as it is.
const clientNodeFile = /node_modules\/@kubernetes\/client-node\/dist\//;
const clientNodeSideEffectFree = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const fromClientNode = clientNodeFile.test(args.importer) && /^\.\.?\//.test(args.path);
      if (!fromClientNode && args.path !== '@kubernetes/client-node') return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolving',
      });
      if (resolved.errors.length > 0 || !clientNodeFile.test(resolved.path)) return resolved;
      if (resolved.path.endsWith('/polyfill.js')) return resolved;
      return { ...resolved, sideEffects: false };
    });
  },
};

// An ESM import of node:http makes Node build the module's ESM facade, which reads every export, among
// them the getters that load Node's own copy of undici (http.WebSocket): ~40 ms of every start-up for
// nothing. Through require() the module is used as it is.
const httpByRequire = {
  name: 'node-http-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.kind === 'require-call' ? undefined : { path: 'node:http', namespace: 'require-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'require-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

// undici's own index.js loads the whole library at every start-up: the bundle takes what it uses from
// scripts/lib/undici.cjs instead, and stops here when a module it bundles asks undici for anything else.
const undiciSlim = join(import.meta.dirname, 'lib/undici.cjs');
const undiciExports = new Set(Object.keys(createRequire(import.meta.url)(undiciSlim)));
const slimUndici = {
  name: 'slim-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) => {
      const missing = namesTakenFrom(readFileSync(args.importer, 'utf8'), 'undici').filter(
        (n) => !undiciExports.has(n),
      );
      if (missing.length === 0) return { path: undiciSlim };
      return {
        errors: [
          {
            text: `${args.importer} takes ${missing.join(', ')} from undici, which scripts/lib/undici.cjs does not export: add it there`,
          },
        ],
      };
    });
  },
};

/** What a module takes from another: its named imports (types aside), or the properties of its require(). */
function namesTakenFrom(source, module) {
  const names = [];
  const from = String.raw`\s*['"]${module}['"]`;
  for (const [, typeOnly, list] of source.matchAll(
    new RegExp(String.raw`import\s+(type\s+)?\{([^}]*)\}\s*from` + from, 'g'),
  ))
    if (!typeOnly)
      for (const item of list.split(',').map((i) => i.trim()))
        if (item && !item.startsWith('type ')) names.push(item.split(/\s+as\s+/)[0]);
  // a default or namespace import cannot be checked name by name
  if (new RegExp(String.raw`import\s+(\*\s+as\s+)?\w+\s+from` + from).test(source))
    names.push('* (a whole-module import)');
  for (const [, list] of source.matchAll(
    new RegExp(String.raw`\{([^}]*)\}\s*=\s*require\(` + from + String.raw`\)`, 'g'),
  ))
    names.push(
      ...list
        .split(',')
        .map((i) => i.split(':')[0].trim())
        .filter(Boolean),
    );
  for (const [, binding] of source.matchAll(
    new RegExp(String.raw`(\w+)\s*=\s*require\(` + from + String.raw`\)`, 'g'),
  ))
    for (const [, name] of source.matchAll(new RegExp(String.raw`\b${binding}\.(\w+)`, 'g')))
      names.push(name);
  return [...new Set(names)];
}

// client-node's kubeconfig loader imports its SOCKS support (socks-proxy-agent, socks, and with them
// ip-address and debug) for the one kubeconfig in a hundred whose proxy-url is socks5://: ~5 ms of every
// start-up. Each is bundled whole, but evaluated when first used; the build stops if client-node takes
// another name from them than the ones this stands in for.
const lazyModules = { 'socks-proxy-agent': ['SocksProxyAgent'], socks: ['SocksClient'] };
const lazySocks = {
  name: 'lazy-socks',
  setup(b) {
    b.onResolve({ filter: /^(socks-proxy-agent|socks)$/ }, (args) => {
      if (args.pluginData === 'real') return undefined;
      const names = lazyModules[args.path];
      const taken = namesTakenFrom(readFileSync(args.importer, 'utf8'), args.path);
      const missing = taken.filter((n) => !names.includes(n));
      if (missing.length > 0)
        return {
          errors: [
            { text: `${args.importer} takes ${missing.join(', ')} from ${args.path}: add it to lazyModules` },
          ],
        };
      return { path: args.path, namespace: 'lazy', pluginData: { resolveDir: args.resolveDir } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      contents: [
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(`${args.path}?real`)}));`,
        `module.exports = { ${lazyModules[args.path].map((n) => `get ${n}() { return load().${n}; }`).join(', ')} };`,
      ].join('\n'),
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
    b.onResolve({ filter: /\?real$/ }, (args) =>
      b.resolve(args.path.replace(/\?real$/, ''), {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'real',
      }),
    );
  },
};

const requireBanner =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";
const common = {
  outdir,
  entryNames: '[name]',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  sourcemap: true,
  // mappings only: the sources are in the repository
  sourcesContent: false,
  // the map names sources relative to dist/, the same wherever the repository is checked out
  sourceRoot: '',
  legalComments: 'none',
  metafile: true,
  plugins: [slimUndici, lazySocks, clientNodeSideEffectFree, httpByRequire],
  logLevel: 'warning',
};

const action = await build({
  ...common,
  entryPoints: ['src/index.ts'],
  chunkNames: '[name]-[hash]',
  splitting: true,
  // some dependencies are CommonJS and call require() for node builtins
  banner: { js: requireBanner },
});

// one file: a command run now and then need not load lazily, and shares no chunk with the action
const setup = await build({
  ...common,
  entryPoints: { setup: 'src/setup/cli.ts' },
  splitting: false,
  banner: { js: `#!/usr/bin/env node\n${requireBanner}` },
});
// runnable as ./dist/setup.js from a clone (npm makes a package's bin executable itself)
chmodSync(join(outdir, 'setup.js'), 0o755);

// every node_modules package that put code in the bundle, by its package.json (nearest to the file)
const packages = new Map();
for (const input of [action, setup].flatMap((result) => Object.keys(result.metafile.inputs))) {
  const match = /^(.*node_modules\/(@[^/]+\/[^/]+|[^/]+))\//.exec(input);
  if (!match) continue;
  const [, dir, name] = match;
  if (packages.has(`${name}@${dir}`)) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  packages.set(`${name}@${dir}`, { name, version: manifest.version, license: licenseOf(manifest), dir });
}

function licenseOf(manifest) {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license?.type) return manifest.license.type;
  if (Array.isArray(manifest.licenses)) return manifest.licenses.map((l) => l.type ?? l).join(' OR ');
  return 'UNKNOWN';
}

function licenseText(dir) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  return file
    ? readFileSync(join(dir, file), 'utf8').trim()
    : '(no licence file in the package; see its package.json)';
}

const seen = new Set();
const entries = [...packages.values()]
  .sort((a, b) => a.name.localeCompare(b.name) || String(a.version).localeCompare(String(b.version)))
  .filter((p) => {
    const key = `${p.name}@${p.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
writeFileSync(
  join(outdir, 'licenses.txt'),
  `${entries.map((p) => `${p.name} ${p.version}\n${p.license}\n${licenseText(p.dir)}`).join('\n\n---\n\n')}\n`,
);
for (const map of ['index.js.map', 'setup.js.map'])
  if (!existsSync(join(outdir, map))) throw new Error(`esbuild wrote no sourcemap ${map}`);
