// Fails when dist/ (the bundle, its sourcemap and the licences of what it bundles) is not what src/ bundles
// to: the action runs dist/, so a stale one ships old code.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// beside dist/, at the same depth: the sourcemap names its sources relative to where it is written
const fresh = mkdtempSync(join(process.cwd(), '.dist-check-'));
try {
  execFileSync(process.execPath, ['scripts/bundle.mjs', fresh], { stdio: 'inherit' });
  const names = new Set([...readdirSync('dist'), ...readdirSync(fresh)]);
  const stale = [...names].filter((name) => {
    try {
      return !readFileSync(join('dist', name)).equals(readFileSync(join(fresh, name)));
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(`dist/ is stale (${stale.join(', ')}): run 'npm run build' and commit dist/`);
    process.exit(1);
  }
  console.log('dist/ matches src/');
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
