// "Fails at once" (issue 23): how soon the action's HTTP seam to Azure gives up on an endpoint no retry can
// reach (a port that does not speak TLS), against a retried outage (a refused port: 3 attempts, 1 s and 2 s
// apart). src/azure/http.ts is bundled with esbuild on the fly (bench/lib/bundled.mjs).
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { importBundled } from './bundled.mjs';
import { now } from './clock.mjs';
import { summarize } from './stats.mjs';

const loadHttp = () => importBundled('src/azure/http.ts');

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
