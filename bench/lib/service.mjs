// The image and service figures come from the service's own benchmark, service/scripts/bench (a
// teammate's: builds with buildx, sizes, and wrk against the image and a bare Fastify in the same run);
// this runs it and reads its printed figures.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './action.mjs';

/** One run of service/scripts/bench; resolves with its figures and its raw output. */
export async function serviceBench({ seconds = 10, timeoutMs = 1_800_000 } = {}) {
  const child = spawn(join(root, 'service/scripts/bench'), [], {
    cwd: join(root, 'service'),
    env: { ...process.env, BENCH_SECONDS: String(seconds) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearTimeout(timer);
  if (code !== 0)
    throw new Error(`service/scripts/bench exited ${code}:\n${out.split('\n').slice(-15).join('\n')}`);
  return { ...parseServiceBench(out), raw: out };
}

const seconds = (out, re) => Number(re.exec(out)?.[1]);

/** wrk's latency: 850.00us, 3.40ms, 1.20s -> ms */
export function wrkMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  if (!m) return Number.NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2]];
}

export function parseServiceBench(out) {
  const load = {};
  for (const m of out.matchAll(/^ {2}(.+?)\s{2,}([\d.]+) req\/s\s+p50\s+(\S+)\s+p99\s+(\S+)$/gm))
    load[m[1].trim()] = { rps: Number(m[2]), p50: wrkMs(m[3]), p99: wrkMs(m[4]) };
  const size = (label) => {
    const m = new RegExp(`^${label}.*?image ([\\d.]+) MB = .*? ([\\d.]+) MB \\+ app ([\\d.]+) MB`, 'm').exec(
      out,
    );
    return m ? { image: Number(m[1]), base: Number(m[2]), app: Number(m[3]) } : undefined;
  };
  const starts = [...out.matchAll(/^ {2}run \d+: (\d+) ms$/gm)].map((m) => Number(m[1]));
  const find = (prefix) => Object.entries(load).find(([name]) => name.startsWith(prefix))?.[1];
  return {
    coldBuildS: seconds(out, /^cold build.*: ([\d.]+) s$/m),
    warmBuildS: seconds(out, /^warm build.*: ([\d.]+) s$/m),
    noChangeBuildS: seconds(out, /^no-change rebuild: ([\d.]+) s$/m),
    uncompressed: size('uncompressed'),
    gzip: size('gzip'),
    startMs: starts,
    image: find('image'),
    bareFastify: find('bare Fastify'),
    bareHttp: find('bare node:http'),
    host: find('dist/main.js on the host, logs to /dev/null'),
    loggingFastify: find('Fastify({ logger: true })'),
    nestExpress: find('Nest on Express'),
    load,
  };
}
