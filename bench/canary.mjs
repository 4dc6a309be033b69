#!/usr/bin/env node
// The canary's figures (issue 28): for each first step size, how long the action takes from the route's
// split to the abort of a bad revision, and how many users' requests the bad revision answered meanwhile
// (the point of a canary is that this share is bounded). On the local target's real node, through its
// Gateway API controller (tools/edge): a stable revision is deployed, then a revision that fails every third
// GET / (answering "bad" otherwise) goes in with `canary-steps: <step>,100`, while a users' loop sends GET /
// through the Gateway. Prints a table and writes bench/results/canary.{json,md}; asserts nothing.
//
//   npm run bench:canary [-- --steps 5,10,25,50 --runs 2 --step-duration 10s]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { root, runActionTimed } from './lib/action.mjs';
import { sleep } from './lib/clock.mjs';
import { deleteNamespace, kubeconfig } from './lib/kube.mjs';
import { loadStackEnv, targetInputs } from './lib/stack.mjs';
import { cell, summarize } from './lib/stats.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split(/\s*--/)
    .filter(Boolean)
    .map((a) => a.split(/\s+/)),
);
const steps = (args.steps ?? '5,10,25,50').split(',').map(Number);
const runs = Number(args.runs ?? 2);
const stepDuration = args['step-duration'] ?? '10s';
const log = (line) => process.stderr.write(`bench canary: ${line}\n`);

loadStackEnv();
const kc = kubeconfig();
const id = randomBytes(3).toString('hex');
const namespace = `bench-canary-${id}`;
const infra = `bench-canary-gw-${id}`;
const host = `${namespace}.localhost`;
const badServer =
  "const h=require('http');let n=0;h.createServer((q,s)=>{if(q.url==='/'&&++n%3===0){s.writeHead(500);s.end('{}');return}" +
  "s.writeHead(200,{'content-type':'application/json'});s.end(JSON.stringify({revision:'bad'}))}).listen(8000)";
const folders = [];
let commit = 0;

/** k8s/ on the real node, routed by an HTTPRoute on the benchmark's Gateway; `bad` runs the failing server. */
function manifests(bad) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-canary-'));
  folders.push(dir);
  execFileSync(process.execPath, [
    join(root, 'scripts/lib/real-node-overlay.mjs'),
    join(root, 'k8s'),
    dir,
    '--pull-secret',
    'local-registry',
  ]);
  unlinkSync(join(dir, 'ingress.yaml'));
  if (bad) {
    const file = join(dir, 'deployment.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replace(
        /( +)image: archetype\n/,
        `$1image: archetype\n$1command: ["node", "-e", "${badServer}"]\n`,
      ),
    );
  }
  writeFileSync(
    join(dir, 'httproute.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: archetype\nspec:\n  parentRefs:\n    - name: shared\n      namespace: ${infra}\n  rules:\n    - backendRefs:\n        - name: archetype\n          port: 80\n`,
  );
  return dir;
}

const deploy = (dir, more = {}) =>
  runActionTimed(
    {
      ...targetInputs(),
      'image-name': `${namespace}/archetype`,
      namespace,
      host,
      manifests: dir,
      'rollout-timeout': '240s',
      ...more,
    },
    { sha: (++commit).toString(16).padStart(40, '0') },
  );

/** GET / with the app's host at the Gateway: the answer's status and revision (0 and '' when none came). */
function get(address) {
  return new Promise((resolve) => {
    const req = request(
      { host: address, port: 80, path: '/', headers: { host }, timeout: 5000, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          let revision = '';
          try {
            revision = JSON.parse(body).revision ?? '';
          } catch {}
          resolve({ status: res.statusCode ?? 0, revision });
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, revision: '' }));
    req.end();
  });
}

/** Users' requests through the Gateway until stop() (at most 20 000): how many, and how many the bad revision met. */
function users(address) {
  let stopped = false;
  const counts = { sent: 0, bad: 0 };
  const done = (async () => {
    while (!stopped && counts.sent < 20_000) {
      const a = await get(address);
      counts.sent++;
      if (a.status >= 500 || a.status === 0 || a.revision === 'bad') counts.bad++;
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return counts;
    },
  };
}

async function gatewayAddress(api) {
  for (let i = 0; i < 120; i++) {
    const g = await api.getNamespacedCustomObject({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      namespace: infra,
      plural: 'gateways',
      name: 'shared',
    });
    const programmed = g.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True');
    if (programmed && g.status?.addresses?.[0]?.value) return g.status.addresses[0].value;
    await sleep(500);
  }
  throw new Error(`Gateway ${infra}/shared was not Programmed within 60 s`);
}

const results = { started: new Date().toISOString(), stepDuration, runs, steps: {} };
try {
  execFileSync(join(root, 'scripts/local-stack'), ['pull-secret', namespace, 'local-registry']);
  execFileSync(join(root, 'scripts/local-stack'), ['pull-secret', infra, 'unused']);
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    namespace: infra,
    plural: 'gateways',
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'shared', namespace: infra },
      spec: {
        gatewayClassName: 'approuting-istio',
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    },
  });
  const address = await gatewayAddress(api);
  const stable = await deploy(manifests(false));
  if (stable.code !== 0) throw new Error(`the stable deploy failed: ${stable.error}`);
  log(`stable revision deployed in ${Math.round(stable.wallMs)} ms; Gateway at ${address}`);
  for (const step of steps) {
    const detect = [];
    const reached = [];
    const share = [];
    for (let r = 0; r < runs; r++) {
      const loop = users(address);
      const run = await deploy(manifests(true), {
        strategy: 'canary',
        'canary-steps': `${step},100`,
        'canary-step-duration': stepDuration,
      });
      const counts = await loop.stop();
      const split = run.lines.find((l) => /^HTTPRoute\/archetype: accepted by Gateway/.test(l.text));
      const abort = run.lines.find((l) => l.text.startsWith('::error::'));
      if (run.code === 0 || !split || !abort)
        throw new Error(`the bad canary at ${step} % was not aborted: ${run.error || 'it passed'}`);
      detect.push(abort.t - split.t);
      reached.push(counts.bad);
      share.push((100 * counts.bad) / Math.max(1, counts.sent));
      log(
        `step ${step} %: aborted ${Math.round(abort.t - split.t)} ms after the split; ${counts.bad} of ${counts.sent} users' requests met the bad revision (${run.error.split('\n')[0].slice(0, 160)})`,
      );
    }
    results.steps[step] = {
      detectMs: summarize(detect),
      reached: summarize(reached),
      sharePct: summarize(share),
    };
  }
} finally {
  await deleteNamespace(kc, namespace);
  await deleteNamespace(kc, infra);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
}

const rows = Object.entries(results.steps).map(
  ([step, f]) =>
    `| ${step} % | ${cell(f.detectMs, 'ms')} | ${cell(f.reached, 'requests')} | ${cell(f.sharePct, '%')} |`,
);
const table = [
  `Canary, a revision failing 1 in 3 GET / (step held ${stepDuration}, 50 probes per side at least; ${new Date().toISOString()})`,
  '',
  "| first step | split → abort | users' requests that met the bad revision | their share of all sent during the deploy |",
  '|---|---|---|---|',
  ...rows,
].join('\n');
writeFileSync(join(root, 'bench/results/canary.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(root, 'bench/results/canary.md'), `${table}\n`);
process.stdout.write(`${table}\n`);
