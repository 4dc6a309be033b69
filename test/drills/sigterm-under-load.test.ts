import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { newSha, tagCommits } from '../helpers/drills.js';

// Drill: the service's image under load is sent SIGTERM in its container (docker stop, as the kubelet
// stops a pod). The load balancer is modelled the way Kubernetes behaves: the terminating endpoint leaves
// rotation a few seconds after the signal (the watches of kube-proxy and the ingress controller), and
// traffic flows until then; readiness must turn 503 at once. Zero failed requests, and the container exits
// 0 by itself, well before docker's SIGKILL.

jest.setTimeout(300_000);

const name = `drill-sigterm-${process.pid}`;
const repository = `drills-${randomBytes(3).toString('hex')}/archetype`;
const config = mkdtempSync(join(tmpdir(), 'drill-docker-'));
// the delay the manifests give the service (k8s/deployment.yaml: SHUTDOWN_DELAY_MS)
const shutdownDelayMs = Number(
  /SHUTDOWN_DELAY_MS\s+value: "(\d+)"/.exec(readFileSync('k8s/deployment.yaml', 'utf8'))?.[1] ?? 5000,
);
const docker = (args: string[], input?: string) =>
  execFileSync('docker', ['--config', config, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 120_000,
  }).trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Answer {
  status: number;
  error?: string;
  connection?: string;
}

function get(port: number, path: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      res.on('error', (e) => resolve({ status: 0, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.end();
  });
}

afterAll(() => {
  try {
    docker(['rm', '-f', name]);
  } catch {
    // never started
  }
  rmSync(config, { recursive: true, force: true });
});

it('answers every request it accepted while it is stopped under load, and exits 0 by itself', async () => {
  const registry = process.env.REGISTRY ?? '';
  docker(
    ['login', registry, '--username', process.env.REGISTRY_USERNAME ?? '', '--password-stdin'],
    process.env.REGISTRY_PASSWORD,
  );
  // the archetype image as the action pushes it (built through the action if the registry has none)
  const sha = newSha();
  await tagCommits(repository, [sha]);
  const image = `${registry}/${repository}:${sha}`;
  docker(['pull', '--quiet', image]);
  const port = await freePort();
  docker([
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'host',
    '--read-only',
    '--env',
    'HOST=127.0.0.1',
    '--env',
    `PORT=${port}`,
    '--env',
    `SHUTDOWN_DELAY_MS=${shutdownDelayMs}`,
    image,
  ]);
  // bounded: 300 tries, 50 ms apart
  for (let i = 0; i < 300 && (await get(port, '/readyz', false)).status !== 200; i++) await sleep(50);
  expect((await get(port, '/readyz', false)).status).toBe(200);

  let inRotation = true;
  let signalledAt = 0;
  let removedAt = 0;
  let unreadyAt = 0;
  const remove = () => {
    if (inRotation) removedAt = Date.now();
    inRotation = false;
  };
  const hardStop = Date.now() + 60_000;
  const answers: Answer[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const worker = async () => {
    while (inRotation && Date.now() < hardStop) answers.push(await get(port, '/', agent));
  };
  const prober = async () => {
    while (inRotation && Date.now() < hardStop) {
      const ready = await get(port, '/readyz', false);
      if (ready.status !== 200 && signalledAt && !unreadyAt) unreadyAt = Date.now();
      await sleep(100);
    }
  };
  const load = Promise.all([prober(), ...Array.from({ length: 16 }, worker)]);

  await sleep(3_000);
  const before = answers.length;
  signalledAt = Date.now();
  // the endpoint change reaches kube-proxy and the ingress controller through their watches: seconds, at
  // worst, while the service keeps serving for SHUTDOWN_DELAY_MS; 3 s here, traffic flowing all along
  setTimeout(remove, 3_000);
  const stopped = Date.now();
  // SIGTERM, then SIGKILL after 30 s; asynchronous, so that the load goes on meanwhile
  await promisify(execFile)('docker', ['--config', config, 'stop', '--time', '30', name], {
    timeout: 60_000,
  });
  const stopMs = Date.now() - stopped;
  await load;
  agent.destroy();

  const failed = answers.filter((a) => a.status !== 200);
  const state = JSON.parse(docker(['inspect', '--format', '{{json .State}}', name])) as {
    ExitCode: number;
    OOMKilled: boolean;
  };
  const logs = execFileSync('docker', ['--config', config, 'logs', '--tail', '20', name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.stdout.write(
    `SIGTERM drill: ${answers.length} requests (${before} before the signal, ${answers.length - before} after), ${failed.length} failed; ` +
      `readiness 503 ${unreadyAt - signalledAt} ms after SIGTERM, left rotation after ${removedAt - signalledAt} ms; docker stop took ${stopMs} ms; exit code ${state.ExitCode}\n`,
  );

  expect(before).toBeGreaterThan(100);
  // readiness went to 503 after the signal, before the process stopped (how soon is the log's figure)
  expect(unreadyAt).toBeGreaterThan(signalledAt);
  expect(answers.length - before).toBeGreaterThan(0);
  expect(failed).toEqual([]);
  // draining answers tell keep-alive clients to reconnect elsewhere
  expect(answers.slice(before).some((a) => a.connection === 'close')).toBe(true);
  expect(state.ExitCode).toBe(0);
  expect(state.OOMKilled).toBe(false);
  expect(logs).toMatch(/shutdown: all requests finished/);
});
