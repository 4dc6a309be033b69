// "Fails at once" (issue 23): how soon the action's HTTP seam to Azure gives up on an endpoint no retry can
// reach (a port that does not speak TLS), against a retried outage (a refused port: 3 attempts, 1 s and 2 s
// apart). src/azure/http.ts is bundled with esbuild on the fly, as bench/lib/render.mjs bundles render.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { root } from './action.mjs';
import { now } from './clock.mjs';
import { summarize } from './stats.mjs';

async function loadHttp() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const outfile = join(dir, 'http.mjs');
  await build({
    entryPoints: [join(root, 'src/azure/http.ts')],
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
  const module = await import(pathToFileURL(outfile).href);
  rmSync(dir, { recursive: true, force: true });
  return module;
}

const listen = (server) =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const close = (server) => new Promise((resolve) => server.close(() => resolve()));

/** Milliseconds from azurePost to its error, `runs` times for the hopeless endpoint, once for the outage. */
export async function failFast(runs) {
  const { azurePost } = await loadHttp();
  const timeToError = async (url) => {
    const started = now();
    const error = await azurePost(url, { headers: {} }, 'bench').then(
      () => undefined,
      (e) => e,
    );
    if (!error) throw new Error(`azurePost ${url} answered; the benchmark expected it to fail`);
    return now() - started;
  };
  const plain = createHttpServer((_req, res) => res.end());
  const plainPort = await listen(plain);
  const hopeless = [];
  try {
    for (let i = 0; i < runs; i++) hopeless.push(await timeToError(`https://127.0.0.1:${plainPort}/x`));
  } finally {
    plain.closeAllConnections();
    await close(plain);
  }
  const probe = createNetServer();
  const closedPort = await listen(probe);
  await close(probe);
  const outage = await timeToError(`https://127.0.0.1:${closedPort}/x`);
  return { hopelessMs: summarize(hopeless), outageMs: summarize([outage]) };
}
