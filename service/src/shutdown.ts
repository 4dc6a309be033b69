import { setTimeout as sleep } from 'node:timers/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { REQUEST_TIMEOUT_MS } from './config.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * The way Kubernetes stops a pod: readiness fails at once, and the server goes on serving for `delayMs`
 * while the endpoint removal reaches kube-proxy and the ingress; then it stops accepting and waits for
 * the requests in flight. Resolves when the last response is sent; rejects if they outlive the bound.
 */
export async function drainAndClose(app: NestFastifyApplication, lifecycle: Lifecycle, delayMs: number) {
  const log = app.getHttpAdapter().getInstance().log;
  lifecycle.startDraining();
  log.info({ delayMs }, 'shutdown: readiness is 503, still serving while endpoints are removed');
  await sleep(delayMs);
  log.info('shutdown: no longer accepting connections, finishing requests in flight');
  // A request in flight has at most REQUEST_TIMEOUT_MS to arrive; past that something is stuck.
  const boundMs = REQUEST_TIMEOUT_MS + 1000;
  const timeout = new AbortController();
  await Promise.race([
    app.close(),
    sleep(boundMs, undefined, { signal: timeout.signal }).then(() => {
      throw new Error(`requests still in flight ${boundMs} ms after the server stopped accepting`);
    }),
  ]).finally(() => timeout.abort());
  log.info('shutdown: all requests finished');
}
