import { STATUS_CODES } from 'node:http';
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { dispatcherOf } from './transport.js';

// One watch request, as client-node's Watch makes it (the same URL, credentials and dispatcher, the same
// callbacks and inactivity timeout), through undici's request() as transport.ts sends the others: fetch's
// WHATWG streams are not needed to read a line of JSON per event.

const inactivityMs = 30_000;
const timeoutError = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

/**
 * Watches `path`: onObject for each event line, then onDone once (null for a clean end, else the error; a
 * non-200 answer is an Error with its statusCode). The controller returned stops it.
 */
export async function watchStream(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onObject: (type: string, object: never) => void,
  onDone: (error: unknown) => void,
): Promise<AbortController> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(server + path);
  url.searchParams.set('watch', 'true');
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(key, String(value));
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const quiet = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(timeoutError());
    }, inactivityMs);
    timer.unref();
  };
  let done = false;
  const finish = (error: unknown) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    controller.abort();
    onDone(error && timedOut ? timeoutError() : error);
  };
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  try {
    quiet();
    const answer = await dispatcherOf(ctx).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: ctx.getHeaders(),
      signal: controller.signal,
    });
    if (answer.statusCode !== 200) {
      answer.body.destroy();
      throw Object.assign(new Error(STATUS_CODES[answer.statusCode] ?? 'Internal Server Error'), {
        statusCode: answer.statusCode,
      });
    }
    quiet();
    let rest = '';
    answer.body.setEncoding('utf8');
    answer.body.on('data', (chunk: string) => {
      quiet();
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        let event: { type: string; object: never };
        try {
          event = JSON.parse(line);
        } catch {
          continue; // as client-node's Watch: a line that is not JSON is skipped
        }
        onObject(event.type, event.object);
      }
    });
    answer.body.on('error', finish);
    answer.body.on('end', () => finish(null));
    answer.body.on('close', () => finish(null));
  } catch (error) {
    finish(error);
  }
  return controller;
}
