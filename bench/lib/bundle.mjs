// The bundle's size: what every run loads (dist/index.js and the chunks it imports statically, in turn) and
// what only the runs that use it load (Azure, octokit: import()). dist/setup.js is not the action's: the
// `archetype-deploy setup` command, counted apart.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function bundleFigures(dist) {
  const atStart = new Set(['index.js']);
  for (const file of atStart)
    for (const m of readFileSync(join(dist, file), 'utf8').matchAll(/(?:from|import)\s*"\.\/([\w.-]+\.js)"/g))
      atStart.add(m[1]);
  const command = 'setup.js';
  const onDemand = readdirSync(dist).filter((f) => f.endsWith('.js') && !atStart.has(f) && f !== command);
  const size = (files) => [...files].reduce((sum, f) => sum + statSync(join(dist, f)).size, 0);
  const gzip = (files) =>
    [...files].reduce((sum, f) => sum + gzipSync(readFileSync(join(dist, f))).length, 0);
  return {
    bundleBytes: statSync(join(dist, 'index.js')).size,
    startFiles: atStart.size,
    startBytes: size(atStart),
    startGzipBytes: gzip(atStart),
    chunks: onDemand.length,
    chunksBytes: size(onDemand),
    setupBytes: size([command]),
  };
}
