// Runs npm inside the image build, where the base image may be a bare Node binary without npm
// (scripts/local-stack's base) or the official node image (whose bundled npm is then not used, so both
// build alike). It fetches the npm that package-lock.json pins (the `npm` devDependency), checks the
// lockfile's integrity hash, unpacks it into NPM_HOME and runs it with the given arguments:
//   node tools/npm.mjs ci --omit=dev
// Node is all it needs: no shell, tar or curl in the base image.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';

const NPM_HOME = resolve(process.env.NPM_HOME ?? '/opt/npm');
// The CA of a TLS-intercepting proxy, if the build has one: `--secret id=ca_certs,src=<pem bundle>`.
const EXTRA_CA = '/run/secrets/ca_certs';

function fail(message) {
  process.stderr.write(`tools/npm.mjs: ${message}\n`);
  process.exit(1);
}

function run(args, env = process.env) {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  process.exit(result.status ?? 1);
}

if (existsSync(EXTRA_CA) && process.env.NODE_EXTRA_CA_CERTS !== EXTRA_CA) {
  // Node reads NODE_EXTRA_CA_CERTS only at start, so start again with it (for this fetch and for npm).
  run(process.argv.slice(1), { ...process.env, NODE_EXTRA_CA_CERTS: EXTRA_CA });
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const pinned = lock.packages?.['node_modules/npm'];
if (!pinned?.version || !pinned?.integrity) {
  fail('package-lock.json pins no npm; add it with: npm install --save-dev --save-exact npm@11');
}

const installed = join(NPM_HOME, 'package.json');
if (!existsSync(installed) || JSON.parse(readFileSync(installed, 'utf8')).version !== pinned.version) {
  const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  const url = pinned.resolved ?? `${registry}npm/-/npm-${pinned.version}.tgz`;
  const tarball = await download(url);
  const [algorithm, expected] = pinned.integrity.split(/-(.*)/s);
  const actual = createHash(algorithm).update(tarball).digest('base64');
  if (actual !== expected) fail(`${url}: ${algorithm} is ${actual}, package-lock.json says ${expected}`);
  untar(gunzipSync(tarball), NPM_HOME);
}

run([join(NPM_HOME, 'bin', 'npm-cli.js'), ...process.argv.slice(2)]);

async function download(url) {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      const reason = error.cause?.code ?? error.message;
      if (attempt === 3) fail(`cannot download ${url}: ${reason}`);
      await sleep(2000 * attempt);
    }
  }
}

// npm's tarballs hold regular files and directories under package/, with pax headers for long paths.
function untar(tar, dest) {
  let longPath;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const text = (start, length) => header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const size = Number.parseInt(text(124, 12).trim() || '0', 8);
    const type = header[156] === 0 ? '0' : String.fromCharCode(header[156]);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      longPath = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    const name = longPath ?? [text(345, 155), text(0, 100)].filter(Boolean).join('/');
    longPath = undefined;
    if (type !== '0' && type !== '5') continue;
    const target = resolve(dest, name.replace(/^[^/]*\/?/, ''));
    if (!target.startsWith(dest + sep)) continue; // never write outside dest
    if (type === '5') mkdirSync(target, { recursive: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, body);
    }
  }
}
