// Copies what running Node needs into a folder that becomes the runtime image's root: the node binary and
// the shared libraries this very process loaded (process.report names them: the C and C++ runtimes and the
// dynamic loader), each under its own path, symlinks resolved. No shell, no npm, no package manager follows.
// Usage (a Dockerfile RUN, exec form): node runtime-files.mjs DEST
import { copyFileSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const dest = process.argv[2];
if (!dest) {
  console.error('usage: node runtime-files.mjs DEST');
  process.exit(2);
}
const libraries = process.report.getReport().sharedObjects.filter((path) => path.startsWith('/'));
if (!libraries.some((path) => /\/ld-linux[^/]*\.so/.test(path)))
  throw new Error(`no dynamic loader among Node's shared objects (${libraries.join(', ')}): is this a glibc Linux?`);

const files = [[process.execPath, '/usr/local/bin/node'], ...libraries.map((path) => [path, path])];
for (const [from, to] of files) {
  const target = join(dest, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(from), target);
  console.log(`${to} <- ${realpathSync(from)}`);
}
