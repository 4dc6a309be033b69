import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const serviceDir = fileURLToPath(new URL('..', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

/** The built server (dist/main.js) as a child process on an ephemeral loopback port. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  logs: LogLine[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog: (msg: string, timeoutMs?: number) => Promise<LogLine>;
}

export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: { msg: string; resolve: (line: LogLine) => void }[] = [];
  let err = '';
  let buffered = '';
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const text of lines) {
      const line = JSON.parse(text) as LogLine; // every stdout line must be JSON
      logs.push(line);
      for (const waiter of waiters.filter((w) => line.msg?.startsWith(w.msg))) waiter.resolve(line);
    }
  });
  const exit = once(child, 'exit').then(
    ([code, signal]) => ({ code, signal }) as Awaited<ServerProcess['exit']>,
  );

  const waitForLog = (msg: string, timeoutMs = 10_000) => {
    const seen = logs.find((line) => line.msg?.startsWith(msg));
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const fail = (why: string) => () => {
        clearTimeout(timer);
        reject(new Error(`${why} "${msg}"; stderr: ${err}`));
      };
      const timer = setTimeout(fail(`no log within ${timeoutMs} ms:`), timeoutMs);
      waiters.push({
        msg,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exit.then(fail('server exited before logging'));
    });
  };

  const listening = await waitForLog('Server listening at');
  const port = Number(new URL(String(listening.msg).replace('Server listening at ', '')).port);
  return { child, port, logs, stderr: () => err, exit, waitForLog };
}
