#!/usr/bin/env node
// The benchmark (issue 6): prints one table of figures with their targets, and writes the raw results to
// bench/results/latest.json and the table to bench/results/latest.md. Nothing here asserts a time: targets
// are printed next to the figures ("met" / "NOT met"). Everything runs against the local deploy target on
// 127.0.0.1 (scripts/local-stack up); every loop has a count.
//
//   npm run bench [-- --runs 5] [--failure-runs 3] [--helm-default-runs 1] [--service-runs 3] [--only deploy,failure,startup,preview,service]
//                 [--skip service] [--load-seconds 10]
//   npm run bench -- --report    (the table again from bench/results/latest.json, nothing measured)
//   BENCH_TIMELINE=/tmp/tl npm run bench -- --only deploy   (also writes each action deploy's log lines with
//                 their ms since spawn to /tmp/tl.<run>: where the time goes, line by line)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VersionApi } from '@kubernetes/client-node';
import { lineAt, root, runActionTimed, stepsFromLog } from './lib/action.mjs';
import { fakeAks, tokenLine } from './lib/aks.mjs';
import { bundleFigures } from './lib/bundle.mjs';
import { now } from './lib/clock.mjs';
import { countingProxy } from './lib/count-proxy.mjs';
import { failFast } from './lib/fail-fast.mjs';
import { chartFrom, helmBinary, helmUpgrade } from './lib/helm.mjs';
import { deleteNamespace, kubeconfig, kubeconfigText, NamespaceRecorder, settle } from './lib/kube.mjs';
import { ensureKubectl } from './lib/kubectl.mjs';
import { load, machine } from './lib/machine.mjs';
import { Registry } from './lib/registry.mjs';
import { renderToFolder } from './lib/render.mjs';
import { serviceBench } from './lib/service.mjs';
import { loadStackEnv, targetInputs as localTargetInputs } from './lib/stack.mjs';
import { cell, ratioCell, summarize, verdict } from './lib/stats.mjs';

const sections = ['startup', 'deploy', 'smoke', 'failure', 'service', 'preview', 'tokens'];
const options = parseArgs(process.argv.slice(2));
if (options.report) {
  // the table again from the saved results (after a change to the table's format), nothing measured
  const saved = JSON.parse(readFileSync(join(root, 'bench/results/latest.json'), 'utf8'));
  const table = report(saved);
  writeFileSync(join(root, 'bench/results/latest.md'), `${table}\n`);
  process.stdout.write(`${table}\n`);
  process.exit(0);
}
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const results = { command: commandLine(), started: new Date().toISOString(), sections: {} };
const cleanups = [];

loadStackEnv();
const kc = kubeconfig();
const kubeVersion = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
results.machine = machine(kubeVersion);
results.loadAtStart = load();
const registry = new Registry(
  process.env.REGISTRY,
  process.env.REGISTRY_USERNAME,
  process.env.REGISTRY_PASSWORD,
);
// The benchmark's images live in a repository of their own (tags 'latest' and one per fake commit), so
// that the deploys it measures never move a tag that others use.
const source = 'archetype';
const repository = 'archetype-bench/archetype';
const targetInputs = {
  ...localTargetInputs(),
  // the deploys land on kwok nodes, whose pods serve nothing
  'smoke-check': 'false',
};
const commits = []; // { sha, digest } made in the registry, removed at the end

try {
  for (const name of sections) {
    if (!options.sections.has(name)) continue;
    const before = load();
    log(`== ${name} (load average ${before.join(', ')})`);
    const started = now();
    const figures = await { startup, deploy, smoke, failure, service, preview, tokens }[name]();
    results.sections[name] = {
      ...figures,
      loadBefore: before,
      loadAfter: load(),
      seconds: (now() - started) / 1000,
    };
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => log(`cleanup: ${e.message}`));
  for (const c of commits)
    await registry.request('DELETE', `${repository}/manifests/${c.digest}`).catch(() => {});
}
results.loadAtEnd = load();
results.finished = new Date().toISOString();
keepOtherSections(results);

const table = report(results);
process.stdout.write(`${table}\n`);
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, 'latest.md'), `${table}\n`);
log(`wrote bench/results/latest.json and bench/results/latest.md`);

// --- sections ------------------------------------------------------------------------------------------

/** 4. node dist/index.js to its first log line; the bundle's size; how soon a hopeless endpoint fails. */
async function startup() {
  const firstLine = [];
  for (let i = 0; i < Math.max(options.runs, 10); i++) {
    // no inputs: the action routes the event, prints its first line, then fails on the missing inputs
    const run = await runActionTimed({ mode: 'deploy' }, { sha: fakeSha(), timeoutMs: 30_000 });
    const first = run.lines.find((l) => l.text.trim());
    if (!first) throw new Error(`dist/index.js printed nothing:\n${run.log}`);
    firstLine.push(first.t - run.started);
  }
  return {
    firstLineMs: summarize(firstLine),
    ...bundleFigures(join(root, 'dist')),
    ...(await failFast(Math.max(options.runs, 5))),
  };
}

/**
 * 1 and 2: the action against Helm 4's `upgrade --install --wait` and kubectl apply + rollout status (the
 * floor), the same objects and image changes, each in a namespace of its own, the order rotated run by run.
 */
async function deploy() {
  const kubectl = ensureKubectl(kubeVersion, log);
  const helm = helmBinary();
  const suffix = randomBytes(3).toString('hex');
  const ns = {
    action: `bench-action-${suffix}`,
    kubectl: `bench-kubectl-${suffix}`,
    helm: `bench-helm-${suffix}`,
  };
  const base = await baseImage();
  const inputs = { ...targetInputs, mode: 'deploy', namespace: ns.action, 'image-name': repository };
  const rec = Object.fromEntries(Object.entries(ns).map(([k, n]) => [k, new NamespaceRecorder(kc, n)]));
  cleanups.push(async () => {
    for (const r of Object.values(rec)) r.stop();
    for (const n of Object.values(ns)) await deleteNamespace(kc, n);
  });
  // asynchronous: the benchmark's watches must go on receiving events while kubectl runs
  const kube = (args) => promisify(execFile)(kubectl, args, { env: process.env, timeout: 600_000 });
  const kubectlDeploy = async (folder) => {
    await kube(['apply', '-f', folder]);
    await kube(['rollout', 'status', 'deployment/archetype', '-n', ns.kubectl, '--timeout=5m']);
  };
  const image = (commit) => `${process.env.REGISTRY}/${repository}@${commit.digest}`;
  const helmChart = async (commit) => {
    const folder = await renderToFolder({ ...inputs, namespace: ns.helm }, commit.sha, commit.digest);
    const chart = chartFrom(folder, { image: image(commit) });
    rmSync(folder, { recursive: true, force: true });
    return chart;
  };
  const helmDeploy = async (chart, commit) => {
    const r = await helmUpgrade(helm, chart, {
      release: 'archetype',
      namespace: ns.helm,
      image: image(commit),
    });
    if (!r.ok) throw new Error(`helm upgrade failed: ${r.error}`);
    return r;
  };

  // the starting state for all three: commit 0 deployed (not measured)
  const first = await commitImage(base);
  await expectOk(await runActionTimed(inputs, { sha: first.sha }), 'first deploy');
  await kube(['create', 'namespace', ns.kubectl]);
  await kubectlDeploy(await renderToFolder({ ...inputs, namespace: ns.kubectl }, first.sha, first.digest));
  await kube(['create', 'namespace', ns.helm]);
  const firstChart = await helmChart(first);
  await helmDeploy(firstChart, first);
  rmSync(firstChart, { recursive: true, force: true });
  for (const r of Object.values(rec)) await r.start();
  // the kubectl discovery cache is warm from here on, as on a runner that ran kubectl before

  /** One tool's deploy, timed against the benchmark's watch of its namespace. */
  const measured = async (tool, work) => {
    await settle(kc, ns[tool], 2);
    const mark = rec[tool].mark();
    const generation = rec[tool].generationOf('archetype');
    const out = await work();
    const changed = await waitFor(() => rec[tool].changed(mark, 'archetype', generation));
    const done = await waitFor(() => rec[tool].completed(mark, 'archetype', generation + 1));
    return { ...out, changed, done, phases: rec[tool].phases(mark, changed.t) };
  };
  const figures = ({ started, exited, changed, done, phases }) => ({
    phases,
    wallMs: exited - started,
    rolloutMs: done.t - changed.t,
    overheadMs: exited - started - (done.t - changed.t),
    // process start to the first change of the Deployment, and its completion to the process's exit
    beforeApplyMs: changed.t - started,
    afterCompleteMs: exited - done.t,
  });

  const rows = [];
  for (let i = 0; i < options.runs; i++) {
    const commit = await commitImage(base);
    const folder = await renderToFolder({ ...inputs, namespace: ns.kubectl }, commit.sha, commit.digest);
    const chart = await helmChart(commit);
    const tools = {
      action: () =>
        measured('action', async () => {
          const run = await runActionTimed(inputs, { sha: commit.sha });
          await expectOk(run, `deploy ${i + 1}`);
          if (process.env.BENCH_TIMELINE)
            writeFileSync(
              `${process.env.BENCH_TIMELINE}.${i + 1}`,
              run.lines.map((l) => `${Math.round(l.t - run.started)}\t${l.text.slice(0, 160)}`).join('\n') +
                `\n${Math.round(run.exited - run.started)}\texit\n`,
            );
          return { run, started: run.started, exited: run.exited };
        }),
      helm: () => measured('helm', () => helmDeploy(chart, commit)),
      kubectl: () =>
        measured('kubectl', async () => {
          const started = now();
          await kubectlDeploy(folder);
          return { started, exited: now() };
        }),
    };
    // rotate which goes first, so that none always runs while the cluster still finishes another
    const order = ['action', 'helm', 'kubectl'];
    const got = {};
    for (let j = 0; j < order.length; j++) {
      const tool = order[(i + j) % order.length];
      got[tool] = await tools[tool]();
    }
    rmSync(folder, { recursive: true, force: true });
    rmSync(chart, { recursive: true, force: true });
    const { run } = got.action;
    const rolled = lineAt(run, /^Deployment\/archetype revision \d+ rolled out/);
    const row = {
      load1: load()[0],
      order: order.map((_, j) => order[(i + j) % order.length]),
      action: {
        ...figures(got.action),
        detectionMs: rolled ? rolled.t - got.action.done.t : Number.NaN,
        steps: run.steps,
        logSteps: stepsFromLog(run),
        firstLineMs: (run.lines.find((l) => l.text.trim())?.t ?? Number.NaN) - run.started,
        requests: Number(/^API server requests sent by this run: (\d+)$/m.exec(run.log)?.[1] ?? Number.NaN),
      },
      helm: figures(got.helm),
      kubectl: figures(got.kubectl),
    };
    rows.push(row);
    const phaseLine = (t) =>
      `${t} @${new Date(got[t].changed.t).toISOString()} ${Object.entries(row[t].phases)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`;
    log(
      `deploy ${i + 1} rollout steps (ms after the change): ${Object.keys(got).map(phaseLine).join(' | ')}`,
    );
    log(
      `deploy ${i + 1}/${options.runs}: action ${ms(row.action.wallMs)} (overhead ${ms(row.action.overheadMs)}, detection ${ms(row.action.detectionMs)}), helm ${ms(row.helm.wallMs)} (overhead ${ms(row.helm.overheadMs)}), kubectl ${ms(row.kubectl.wallMs)} (overhead ${ms(row.kubectl.overheadMs)}), load ${row.load1}`,
    );
  }
  const requests = await countDeployRequests({ base, inputs, ns, image, helmChart, helm, kubectl });
  const pick = (f) => summarize(rows.map(f));
  const stepNames = [...new Set(rows.flatMap((r) => r.action.steps.map((s) => s.name)))];
  const common = (tool) =>
    Object.fromEntries(
      ['wallMs', 'rolloutMs', 'overheadMs', 'beforeApplyMs', 'afterCompleteMs'].map((k) => [
        k,
        pick((r) => r[tool][k]),
      ]),
    );
  const phasesOf = (tool) =>
    Object.fromEntries(
      [...new Set(rows.flatMap((r) => Object.keys(r[tool].phases)))].map((k) => [
        k,
        pick((r) => r[tool].phases[k] ?? Number.NaN),
      ]),
    );
  return {
    runs: rows,
    action: {
      ...common('action'),
      rolloutStepsMs: phasesOf('action'),
      detectionMs: pick((r) => r.action.detectionMs),
      stepsMs: Object.fromEntries(
        stepNames.map((n) => [
          n,
          pick((r) => (r.action.steps.find((s) => s.name === n)?.seconds ?? Number.NaN) * 1000),
        ]),
      ),
      logStepsMs: Object.fromEntries(
        stepNames.map((n) => [n, pick((r) => r.action.logSteps.find((s) => s.name === n)?.ms ?? Number.NaN)]),
      ),
      firstLineMs: pick((r) => r.action.firstLineMs),
      requests: pick((r) => r.action.requests),
      stepRequests: Object.fromEntries(
        stepNames.map((n) => [
          n,
          pick((r) => r.action.steps.find((s) => s.name === n)?.requests ?? Number.NaN),
        ]),
      ),
    },
    helm: { ...common('helm'), rolloutStepsMs: phasesOf('helm') },
    kubectl: { ...common('kubectl'), rolloutStepsMs: phasesOf('kubectl') },
    requests,
    helmRatio: pick((r) => r.action.wallMs / r.helm.wallMs),
    wallRatio: pick((r) => r.action.wallMs / r.kubectl.wallMs),
    overheadRatio: pick((r) => r.action.overheadMs / r.kubectl.overheadMs),
  };
}

/**
 * 1c. API requests per deploy, counted the same way for the three: one more deploy each, of one more commit,
 * through a counting proxy (bench/lib/count-proxy.mjs), apart from the timed runs.
 */
async function countDeployRequests({ base, inputs, ns, image, helmChart, helm, kubectl }) {
  const proxy = await countingProxy();
  try {
    const commit = await commitImage(base);
    const counted = {};
    proxy.reset();
    const run = await runActionTimed(
      { ...inputs, kubeconfig: readFileSync(proxy.kubeconfig, 'utf8') },
      { sha: commit.sha },
    );
    await expectOk(run, 'the counted deploy');
    counted.action = proxy.count();
    counted.actionOwn = Number(
      /^API server requests sent by this run: (\d+)$/m.exec(run.log)?.[1] ?? Number.NaN,
    );
    const chart = await helmChart(commit);
    proxy.reset();
    const h = await helmUpgrade(helm, chart, {
      release: 'archetype',
      namespace: ns.helm,
      image: image(commit),
      kubeconfig: proxy.kubeconfig,
    });
    rmSync(chart, { recursive: true, force: true });
    if (!h.ok) throw new Error(`the counted helm upgrade failed: ${h.error}`);
    counted.helm = proxy.count();
    const folder = await renderToFolder({ ...inputs, namespace: ns.kubectl }, commit.sha, commit.digest);
    proxy.reset();
    const k = (args) =>
      promisify(execFile)(kubectl, ['--kubeconfig', proxy.kubeconfig, ...args], { timeout: 600_000 });
    await k(['apply', '-f', folder]);
    await k(['rollout', 'status', 'deployment/archetype', '-n', ns.kubectl, '--timeout=5m']);
    counted.kubectl = proxy.count();
    rmSync(folder, { recursive: true, force: true });
    log(
      `API requests per deploy (proxy): action ${counted.action} (its own count ${counted.actionOwn}), helm ${counted.helm}, kubectl ${counted.kubectl}`,
    );
    return counted;
  } finally {
    await proxy.stop();
  }
}

/**
 * 1b. The smoke check where pods serve: deploys onto the local target's real node (kubelet + containerd),
 * each a new commit built with its REVISION, and the time the action's smoke check step took. The kwok
 * deploys of section 1 cannot have one: their pods run no process.
 */
async function smoke() {
  if (!process.env.REAL_NODE_NAME)
    throw new Error('the local target runs no real node (ARCHETYPE_REAL_NODE=0?)');
  const exec = promisify(execFile);
  const ns = `bench-smoke-${randomBytes(3).toString('hex')}`;
  const images = 'archetype-bench-smoke/archetype';
  const manifests = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  cleanups.push(async () => {
    rmSync(manifests, { recursive: true, force: true });
    await deleteNamespace(kc, ns);
  });
  await exec(join(root, 'scripts/local-stack'), ['pull-secret', ns, 'local-registry']);
  await exec(process.execPath, [
    join(root, 'scripts/lib/real-node-overlay.mjs'),
    join(root, 'k8s'),
    manifests,
    '--pull-secret',
    'local-registry',
  ]);
  const inputs = { ...targetInputs, mode: 'deploy', namespace: ns, 'image-name': images, manifests };
  const rows = [];
  // the first deploy creates the Deployment: not measured
  for (let i = 0; i <= Math.min(options.runs, 3); i++) {
    let run = await runActionTimed({ ...inputs, 'smoke-check': 'true' }, { sha: fakeSha() });
    // the first pods on a busy node may pull before the node may read their pull secret (the node
    // authorizer learns of the pod a moment after it is bound): that unmeasured deploy is tried once more
    if (i === 0 && run.code !== 0) {
      log(`real-node deploy 0 failed, trying once more: ${run.error.split('\n')[0]}`);
      run = await runActionTimed({ ...inputs, 'smoke-check': 'true' }, { sha: fakeSha() });
    }
    await expectOk(run, `real-node deploy ${i}`);
    const digest = run.outputs.image?.split('@')[1];
    if (digest) cleanups.push(() => registry.request('DELETE', `${images}/manifests/${digest}`));
    if (i === 0) continue;
    const step = (name) => stepsFromLog(run).find((s) => s.name === name)?.ms ?? Number.NaN;
    rows.push({ wallMs: run.wallMs, smokeMs: step('smoke check'), rolloutMs: step('rollout') });
    log(
      `real-node deploy ${i}: wall ${ms(run.wallMs)}, rollout ${ms(step('rollout'))}, smoke check ${ms(step('smoke check'))}`,
    );
  }
  const pick = (f) => summarize(rows.map(f));
  return {
    runs: rows,
    wallMs: pick((r) => r.wallMs),
    rolloutMs: pick((r) => r.rolloutMs),
    smokeMs: pick((r) => r.smokeMs),
  };
}

/** 3. A broken image: from the apply to the action's diagnosis and rollback, against the progress deadline. */
async function failure() {
  const ns = `bench-failure-${randomBytes(3).toString('hex')}`;
  const rec = new NamespaceRecorder(kc, ns);
  cleanups.push(async () => {
    rec.stop();
    await deleteNamespace(kc, ns);
  });
  const base = await baseImage();
  const inputs = {
    ...targetInputs,
    mode: 'deploy',
    namespace: ns,
    'image-name': repository,
    'rollout-timeout': '5m',
  };
  const first = await commitImage(base);
  await expectOk(await runActionTimed(inputs, { sha: first.sha }), 'first deploy');
  await rec.start();
  // allowanceMs: what the input failure-grace lets a failing pod have (its default: 10 s or 3 sightings),
  // plus 1 s for the action to diagnose and start the rollback
  const variants = [
    { name: 'ImagePullBackOff (default failure-grace)', fail: 'ImagePullBackOff', allowanceMs: 11_000 },
    { name: 'CrashLoopBackOff (default failure-grace)', fail: 'CrashLoopBackOff', allowanceMs: 11_000 },
    {
      name: "ImagePullBackOff, failure-grace '1 observation'",
      fail: 'ImagePullBackOff',
      grace: '1 observation',
      allowanceMs: 1_000,
    },
  ];
  const out = [];
  for (const v of variants) {
    const manifests = failingManifests(v.fail);
    const rows = [];
    for (let i = 0; i < options.failureRuns; i++) {
      const commit = await commitImage(base);
      const mark = rec.mark();
      const gen = rec.generationOf('archetype');
      const run = await runActionTimed(
        { ...inputs, manifests, ...(v.grace ? { 'failure-grace': v.grace } : {}) },
        { sha: commit.sha },
      );
      if (run.code === 0) throw new Error(`the ${v.name} deploy succeeded:\n${run.log}`);
      const changed = rec.changed(mark, 'archetype', gen);
      const shows = rec.podShowing(mark, [v.fail]);
      // the restore of the previous release begins (a rollback of the Deployment alone, before releases)
      const rollback = lineAt(run, /^::group::restore release \d+|^rolling back Deployment\/archetype/);
      if (!changed || !shows || !rollback)
        throw new Error(
          `${v.name}: missing a timestamp (apply ${!!changed}, pod ${!!shows}, rollback ${!!rollback}):\n${run.log}`,
        );
      // the previous release serving again: the Deployment back at its template and complete (the action
      // tracks the restore, so it is there by the time the process exits)
      const serving = await waitFor(() => rec.completed(mark, 'archetype', gen + 2));
      rows.push({
        load1: load()[0],
        applyToServingMs: serving.t - changed.t,
        applyToPodShowsMs: shows.t - changed.t,
        podShowsToRollbackMs: rollback.t - shows.t,
        applyToRollbackMs: rollback.t - changed.t,
        wallMs: run.wallMs,
        error: run.error,
      });
      log(
        `${v.name} ${i + 1}/${options.failureRuns}: rollback started ${ms(rollback.t - changed.t)} after the apply, ${ms(rollback.t - shows.t)} after the pod showed it`,
      );
    }
    rmSync(manifests, { recursive: true, force: true });
    const pick = (f) => summarize(rows.map(f));
    out.push({
      name: v.name,
      allowanceMs: v.allowanceMs,
      runs: rows,
      applyToPodShowsMs: pick((r) => r.applyToPodShowsMs),
      podShowsToRollbackMs: pick((r) => r.podShowsToRollbackMs),
      applyToRollbackMs: pick((r) => r.applyToRollbackMs),
      applyToServingMs: pick((r) => r.applyToServingMs),
      wallMs: pick((r) => r.wallMs),
    });
  }
  const helm = await helmFailure(base, inputs);
  const deadline = /progressDeadlineSeconds:\s*(\d+)/.exec(
    readFileSync(join(root, 'k8s/deployment.yaml'), 'utf8'),
  );
  return { progressDeadlineSeconds: deadline ? Number(deadline[1]) : 600, variants: out, helm };
}

/**
 * 3b. The same broken image through Helm 4: `helm upgrade --install --wait --rollback-on-failure`, with
 * Helm's default timeout (5 min; --helm-default-runs of them) and with 60 s: apply → the previous release
 * serving again (the Deployment back at its template and complete).
 */
async function helmFailure(base, inputs) {
  const helm = helmBinary();
  const ns = `bench-helm-failure-${randomBytes(3).toString('hex')}`;
  const rec = new NamespaceRecorder(kc, ns);
  cleanups.push(async () => {
    rec.stop();
    await deleteNamespace(kc, ns);
  });
  const image = (commit) => `${process.env.REGISTRY}/${repository}@${commit.digest}`;
  const upgrade = async (manifests, commit, more = {}) => {
    const folder = await renderToFolder({ ...inputs, manifests, namespace: ns }, commit.sha, commit.digest);
    const chart = chartFrom(folder, { image: image(commit) });
    rmSync(folder, { recursive: true, force: true });
    try {
      return await helmUpgrade(helm, chart, {
        release: 'archetype',
        namespace: ns,
        image: image(commit),
        ...more,
      });
    } finally {
      rmSync(chart, { recursive: true, force: true });
    }
  };
  await promisify(execFile)(ensureKubectl(kubeVersion), ['create', 'namespace', ns], { env: process.env });
  const good = await upgrade(inputs.manifests ?? join(root, 'k8s'), await commitImage(base));
  if (!good.ok) throw new Error(`the first helm install failed: ${good.error}`);
  await rec.start();
  const failing = failingManifests('ImagePullBackOff');
  const variants = [
    {
      name: 'Helm 4, --rollback-on-failure, default --timeout (5m)',
      timeout: '5m',
      runs: options.helmDefaultRuns,
    },
    { name: 'Helm 4, --rollback-on-failure, --timeout 60s', timeout: '60s', runs: options.failureRuns },
  ];
  const out = [];
  try {
    for (const v of variants) {
      const rows = [];
      for (let i = 0; i < v.runs; i++) {
        await settle(kc, ns, 2);
        const mark = rec.mark();
        const gen = rec.generationOf('archetype');
        const r = await upgrade(failing, await commitImage(base), {
          timeout: v.timeout,
          rollbackOnFailure: true,
        });
        if (r.ok) throw new Error(`${v.name}: the broken image's upgrade succeeded`);
        const changed = await waitFor(() => rec.changed(mark, 'archetype', gen));
        const serving = await waitFor(() => rec.completed(mark, 'archetype', gen + 2));
        rows.push({
          load1: load()[0],
          applyToServingMs: serving.t - changed.t,
          wallMs: r.exited - r.started,
        });
        log(
          `${v.name} ${i + 1}/${v.runs}: previous release serving ${ms(serving.t - changed.t)} after the apply`,
        );
      }
      out.push({
        name: v.name,
        runs: rows,
        applyToServingMs: summarize(rows.map((r) => r.applyToServingMs)),
        wallMs: summarize(rows.map((r) => r.wallMs)),
      });
    }
  } finally {
    rmSync(failing, { recursive: true, force: true });
  }
  return out;
}

/** 5 and 6: service/scripts/bench, several times; and the pushed image's compressed size in the registry. */
async function service() {
  const runs = [];
  for (let i = 0; i < options.serviceRuns; i++) {
    log(
      `service/scripts/bench ${i + 1}/${options.serviceRuns} (builds and ${options.loadSeconds} s load runs)`,
    );
    // a run that fails (docker save or build output lost to another user of the same engine) gets one retry
    const r = await serviceBench({ seconds: options.loadSeconds }).catch((error) => {
      log(`${error.message.split('\n').slice(-3).join(' / ')}; running it once more`);
      results.serviceRetries = (results.serviceRetries ?? 0) + 1;
      return serviceBench({ seconds: options.loadSeconds });
    });
    runs.push({ ...r, load1: load()[0] });
    log(
      `  warm build ${r.warmBuildS} s, image ${r.image?.rps} req/s vs bare Fastify ${r.bareFastify?.rps} req/s`,
    );
  }
  const pick = (f) => summarize(runs.map(f));
  return {
    registry: await registryImageSize(),
    runs: runs.map(({ raw, ...r }) => ({ ...r, raw })),
    coldBuildS: pick((r) => r.coldBuildS),
    warmBuildS: pick((r) => r.warmBuildS),
    noChangeBuildS: pick((r) => r.noChangeBuildS),
    uncompressedMB: pick((r) => r.uncompressed?.image),
    uncompressedAppMB: pick((r) => r.uncompressed?.app),
    gzipMB: pick((r) => r.gzip?.image),
    gzipAppMB: pick((r) => r.gzip?.app),
    startMs: summarize(runs.flatMap((r) => r.startMs)),
    imageRps: pick((r) => r.image?.rps),
    imageP99Ms: pick((r) => r.image?.p99),
    bareRps: pick((r) => r.bareFastify?.rps),
    bareP99Ms: pick((r) => r.bareFastify?.p99),
    rpsRatio: pick((r) => r.image.rps / r.bareFastify.rps),
    // the same service outside docker: what the per-request JSON log line and the container cost
    hostRatio: pick((r) => r.load['dist/main.js on the host, logs to /dev/null']?.rps / r.bareFastify.rps),
    hostQuietRatio: pick((r) => r.load['dist/main.js on the host, LOG_LEVEL=warn']?.rps / r.bareFastify.rps),
    // the anchors a team would pick instead (issue 27), each on the host with its logs to /dev/null
    loggingFastifyRps: pick((r) => r.loggingFastify?.rps),
    nestExpressRps: pick((r) => r.nestExpress?.rps),
    loggingFastifyRatio: pick((r) => r.host?.rps / r.loggingFastify?.rps),
    nestExpressRatio: pick((r) => r.host?.rps / r.nestExpress?.rps),
  };
}

/** 7. A pull request's preview: created (opened), then torn down (closed), each through dist/index.js. */
async function preview() {
  const app = `bench-${randomBytes(3).toString('hex')}`;
  const base = await baseImage();
  const inputs = {
    ...targetInputs,
    'app-name': app,
    'image-name': repository,
    'preview-domain': 'preview.localhost',
  };
  const rows = [];
  for (let i = 0; i < options.runs; i++) {
    const pr = i + 1;
    const commit = await commitImage(base);
    cleanups.push(() => deleteNamespace(kc, `${app}-pr-${pr}`));
    const event = (action) => ({
      event: 'pull_request',
      sha: fakeSha(),
      ref: `refs/pull/${pr}/merge`,
      payload: {
        action,
        number: pr,
        pull_request: {
          number: pr,
          head: { sha: commit.sha, ref: 'bench', repo: { full_name: 'local/archetype' } },
        },
        repository: { full_name: 'local/archetype', default_branch: 'main' },
      },
    });
    const created = await runActionTimed(inputs, event('opened'));
    await expectOk(created, `preview ${pr}`);
    const removed = await runActionTimed(inputs, event('closed'));
    await expectOk(removed, `teardown ${pr}`);
    if (!/is gone/.test(removed.log))
      throw new Error(`teardown of pr-${pr} did not delete its namespace:\n${removed.log}`);
    rows.push({ load1: load()[0], createMs: created.wallMs, teardownMs: removed.wallMs });
    log(
      `preview ${pr}/${options.runs}: created in ${ms(created.wallMs)}, torn down in ${ms(removed.wallMs)}`,
    );
  }
  return {
    runs: rows,
    createMs: summarize(rows.map((r) => r.createMs)),
    teardownMs: summarize(rows.map((r) => r.teardownMs)),
  };
}

/**
 * Cluster tokens on AKS (issue 13): the action asks for an Entra token per request, renewed before expiry.
 * Deploys of new commits through the AKS path (Entra sign-in, ARM's kubeconfig, tokens from EntraTokens)
 * alternate with the fixed-token version (one token, fetched beforehand, in a kubeconfig), same identity,
 * same namespace; then one deploy on 60-second tokens whose pods take 130 s to be Ready, which must renew.
 */
async function tokens() {
  const base = await baseImage();
  const ns = `bench-tokens-${randomBytes(3).toString('hex')}`;
  const aks = await fakeAks(kc, kubeconfigText(), ns);
  cleanups.push(async () => {
    await aks.close();
    await deleteNamespace(kc, ns);
  });
  const { kubeconfig: _admin, ...registryInputs } = targetInputs;
  const common = { ...registryInputs, mode: 'deploy', namespace: ns, 'image-name': repository };
  const deployRenewing = async (extra = {}) => {
    const commit = await commitImage(base);
    const run = await expectOk(
      await runActionTimed({ ...common, ...aks.inputs, ...extra }, { sha: commit.sha, env: aks.env }),
      'deploy through the AKS path',
    );
    const t = tokenLine(run.log);
    if (!t) throw new Error(`the action printed no "cluster tokens:" line:\n${run.log.slice(-2000)}`);
    return { wallMs: run.wallMs, ...t };
  };
  const deployFixed = async () => {
    const commit = await commitImage(base);
    const kubeconfig = await aks.fixedTokenKubeconfig();
    const run = await expectOk(
      await runActionTimed({ ...common, kubeconfig }, { sha: commit.sha }),
      'deploy with a fixed token',
    );
    return { wallMs: run.wallMs };
  };
  await deployRenewing(); // the starting state (not measured)
  const rows = [];
  for (let i = 0; i < options.runs; i++) {
    // alternate which goes first, so that neither always runs while the cluster still finishes the other
    await settle(kc, ns, 2);
    const first = i % 2 === 0 ? await deployRenewing() : await deployFixed();
    await settle(kc, ns, 2);
    const second = i % 2 === 0 ? await deployFixed() : await deployRenewing();
    const [r, f] = i % 2 === 0 ? [first, second] : [second, first];
    rows.push({ load1: load()[0], renewing: r, fixed: f });
    log(
      `tokens ${i + 1}/${options.runs}: renewing ${ms(r.wallMs)} (${r.fetched} token(s) in ${r.fetchMs} ms, ${r.requests} requests), fixed ${ms(f.wallMs)}`,
    );
  }
  // one long deploy on 60-second tokens: the pods' readiness is held back 130 s (kwok's stage annotation)
  await settle(kc, ns, 2);
  const slow = mkdtempSync(join(tmpdir(), 'bench-k8s-slow-'));
  cleanups.push(async () => rmSync(slow, { recursive: true, force: true }));
  cpSync(join(root, 'k8s'), slow, { recursive: true });
  const file = join(slow, 'deployment.yaml');
  const text = readFileSync(file, 'utf8');
  const held = text.replace(
    /( {4}metadata:\n {6}labels:)/,
    '    metadata:\n      annotations:\n        archetype.local/ready-after: 130s\n      labels:',
  );
  if (held === text)
    throw new Error("k8s/deployment.yaml: the pod template's labels were not where expected");
  writeFileSync(file, held);
  aks.fake.tokenLifetimeSeconds = 60;
  const long = await deployRenewing({ manifests: slow, 'rollout-timeout': '300s' });
  aks.fake.tokenLifetimeSeconds = 3599;
  log(
    `tokens, long deploy on 60 s tokens: ${ms(long.wallMs)}, ${long.fetched} tokens in ${long.fetchMs} ms, ${long.requests} requests`,
  );
  return {
    runs: rows,
    renewingWallMs: summarize(rows.map((r) => r.renewing.wallMs)),
    fixedWallMs: summarize(rows.map((r) => r.fixed.wallMs)),
    differenceMs: summarize(rows.map((r) => r.renewing.wallMs - r.fixed.wallMs)),
    fetched: summarize(rows.map((r) => r.renewing.fetched)),
    fetchMs: summarize(rows.map((r) => r.renewing.fetchMs)),
    requests: summarize(rows.map((r) => r.renewing.requests)),
    long,
  };
}

// --- helpers -------------------------------------------------------------------------------------------

/**
 * The archetype image the fake commits are made from: the registry's archetype:latest (or a commit's tag),
 * copied into the benchmark's repository as 'base'; built once through the action when there is none.
 */
async function baseImage() {
  if (results.baseImage) return 'base';
  const tags = await registry.tags(source);
  let tag = tags.includes('latest') ? 'latest' : tags.find((t) => /^[0-9a-f]{40}$/.test(t));
  let from = source;
  if (!tag) {
    log(`the registry has no ${source} image yet: building one through the action`);
    const ns = `bench-build-${randomBytes(3).toString('hex')}`;
    tag = fakeSha();
    from = repository;
    cleanups.push(() => deleteNamespace(kc, ns));
    const run = await runActionTimed(
      { ...targetInputs, mode: 'deploy', namespace: ns, 'image-name': repository },
      { sha: tag, ref: 'refs/heads/bench' },
    );
    await expectOk(run, 'build');
  }
  const digest = await registry.copyImage(from, tag, repository, 'base');
  results.baseImage = { from: `${from}:${tag}`, digest };
  return 'base';
}

/** A new fake commit whose image (an index over the base image) is in the registry under its sha. */
async function commitImage(base) {
  const sha = fakeSha();
  const digest = await registry.commitImage(repository, base, sha);
  commits.push({ sha, digest });
  return { sha, digest };
}

async function registryImageSize() {
  const m = await registry.manifest(repository, await baseImage());
  let manifest = JSON.parse(m.raw);
  if (Array.isArray(manifest.manifests)) {
    const amd64 =
      manifest.manifests.find((d) => d.platform?.architecture === 'amd64') ?? manifest.manifests[0];
    manifest = JSON.parse((await registry.manifest(repository, amd64.digest)).raw);
  }
  const layers = manifest.layers.map((l) => l.size);
  return {
    compressedMB: layers.reduce((a, b) => a + b, 0) / 1e6,
    layers: layers.length,
    image: results.baseImage,
  };
}

function failingManifests(failure) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-failing-'));
  cpSync(join(root, 'k8s'), dir, { recursive: true });
  const file = join(dir, 'deployment.yaml');
  const text = readFileSync(file, 'utf8').replace(
    /( {4}metadata:\n {6}labels:)/,
    `    metadata:\n      annotations:\n        archetype.local/fail: ${failure}\n      labels:`,
  );
  if (!text.includes('archetype.local/fail'))
    throw new Error('k8s/deployment.yaml: cannot place the failure annotation');
  writeFileSync(file, text);
  return dir;
}

async function expectOk(run, what) {
  if (run.code !== 0)
    throw new Error(`${what} failed (exit ${run.code}): ${run.error}\n${run.log.slice(-3000)}`);
  return run;
}

/** The watch's event may trail the process that caused it by a few ms: wait for it, at most 10 s. */
async function waitFor(find) {
  for (let i = 0; i < 200; i++) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('an expected Deployment event never arrived on the benchmark watch');
}

/**
 * A run of some sections (--only, --skip) keeps the others' figures from bench/results/latest.json, each
 * marked with the run that measured it, so that the table stays whole.
 */
function keepOtherSections(r) {
  const file = join(root, 'bench/results/latest.json');
  // no earlier results: the table holds what this run measured
  if (!existsSync(file)) return;
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  for (const [name, section] of Object.entries(saved.sections ?? {}))
    if (!(name in r.sections))
      r.sections[name] = {
        ...section,
        keptFrom: section.keptFrom ?? { command: saved.command, started: saved.started },
      };
}

function fakeSha() {
  return randomBytes(20).toString('hex');
}

function ms(v) {
  return `${Math.round(v)} ms`;
}

function parseArgs(argv) {
  const o = {
    runs: 5,
    failureRuns: 3,
    helmDefaultRuns: 1,
    serviceRuns: 3,
    loadSeconds: 10,
    sections: new Set(sections),
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const list = () => new Set(value.split(',').map((s) => s.trim()));
    i++;
    if (flag === '--report') {
      o.report = true;
      i--;
    } else if (flag === '--runs') o.runs = Number(value);
    else if (flag === '--failure-runs') o.failureRuns = Number(value);
    else if (flag === '--helm-default-runs') o.helmDefaultRuns = Number(value);
    else if (flag === '--service-runs') o.serviceRuns = Number(value);
    else if (flag === '--load-seconds') o.loadSeconds = Number(value);
    else if (flag === '--only') o.sections = list();
    else if (flag === '--skip') o.sections = new Set(sections.filter((s) => !list().has(s)));
    else {
      process.stderr.write(
        'usage: npm run bench [-- --runs N --failure-runs N --helm-default-runs N --service-runs N --load-seconds S --only|--skip startup,deploy,smoke,failure,service,preview,tokens] | [-- --report]\n',
      );
      process.exit(2);
    }
  }
  for (const s of o.sections) if (!sections.includes(s)) throw new Error(`unknown section '${s}'`);
  return o;
}

function commandLine() {
  const args = process.argv.slice(2);
  return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

// --- the table -----------------------------------------------------------------------------------------

function report(r) {
  const m = r.machine;
  const rows = [];
  const add = (n, figure, result, target = '', ok) =>
    rows.push(`| ${n} | ${figure} | ${result} | ${target} | ${verdict(ok)} |`);
  const loadOf = (s) => `load ${s.loadBefore[0]}→${s.loadAfter[0]}`;
  const d = r.sections.deploy;
  if (d) {
    add(1, `deploy, wall: action (process start → exit), ${loadOf(d)}`, cell(d.action.wallMs, 'ms'));
    if (d.helm) {
      add(
        1,
        'deploy, wall: Helm 4 `helm upgrade --install --wait` (same objects, image as a value)',
        cell(d.helm.wallMs, 'ms'),
      );
      add(
        1,
        'wall ratio action / Helm 4 (same run, order rotated; both apply server-side, record a release and wait with kstatus; the action also takes a lock, runs preflight, prunes and moves tags)',
        ratioCell(d.helmRatio),
        '≤ 1.0',
        d.helmRatio.median <= 1.0,
      );
    }
    add(
      1,
      'deploy, wall: `kubectl apply -f` + `kubectl rollout status` (the floor: no release, no wait for more than the Deployment)',
      cell(d.kubectl.wallMs, 'ms'),
    );
    add(
      1,
      'wall ratio action / kubectl (same run; no smoke check on kwok nodes, whose pods serve nothing)',
      ratioCell(d.wallRatio),
    );
    const three = (k) =>
      [d.action, d.helm, d.kubectl]
        .filter(Boolean)
        .map((t) => cell(t[k], 'ms'))
        .join(' / ');
    const who = d.helm ? 'action / Helm 4 / kubectl' : 'action / kubectl';
    if (d.requests)
      add(
        1,
        'API requests per deploy, counted by a proxy in front of the API server (one more deploy each): action / Helm 4 / kubectl',
        `${d.requests.action} / ${d.requests.helm} / ${d.requests.kubectl} (the action's own count: ${d.requests.actionOwn})`,
      );
    add(1, `rollout's own time (Deployment changed → complete): ${who}`, three('rolloutMs'));
    if (d.action.rolloutStepsMs) {
      const names = {
        pod1Ready: 'pod 1 Ready',
        pod2Ready: 'pod 2 Ready',
        newAvailable2: 'new ReplicaSet 2 available',
        old2Deleting: 'last old pod deleted',
      };
      const stepsOf = (t) =>
        Object.entries(names)
          .map(([k, label]) => `${label} ${Math.round(t.rolloutStepsMs[k]?.median ?? Number.NaN)}`)
          .join(', ');
      add(
        1,
        `rollout's steps, ms after the Deployment changed, medians (the controllers' work, the same objects): ${who}`,
        [d.action, d.helm, d.kubectl].filter(Boolean).map(stepsOf).join(' / '),
      );
    }
    add(1, `overhead beyond the rollout: ${who}`, three('overheadMs'));
    add(1, 'overhead ratio action / kubectl (same run)', ratioCell(d.overheadRatio));
    add(1, `before the first change: ${who}`, three('beforeApplyMs'));
    add(1, `after completion to exit: ${who}`, three('afterCompleteMs'));
    // a step missing from a source (a step timed without a log group of its own) is left out
    const steps = (timings) =>
      `${Object.entries(timings)
        .filter(([, s]) => Number.isFinite(s.median))
        .map(([name, s]) => `${name.replace(/\|/g, '/')} ${Math.round(s.median)}`)
        .join(', ')} ms`;
    add(1, "action's steps, from its job summary (0.1 s resolution), medians", steps(d.action.stepsMs));
    if (d.action.requests && Number.isFinite(d.action.requests.median))
      add(
        1,
        "action's API server requests: per deploy, and per step (those a step sent while it ran), medians",
        `${cell(d.action.requests, 'requests', 0)}; ${Object.entries(d.action.stepRequests)
          .filter(([, s]) => Number.isFinite(s.median) && s.median > 0)
          .map(([name, s]) => `${name.replace(/\|/g, '/')} ${Math.round(s.median)}`)
          .join(', ')}`,
      );
    add(
      1,
      "action's steps, from its ::group:: log lines as they arrived, medians",
      `process start → first line ${Math.round(d.action.firstLineMs.median)} ms; ${steps(d.action.logStepsMs)}`,
    );
    add(
      2,
      'detection: Deployment complete in the API server → action prints "rolled out"',
      cell(d.action.detectionMs, 'ms'),
      '< 100 ms',
      d.action.detectionMs.max < 100,
    );
  }
  const k = r.sections.smoke;
  if (k) {
    add(
      1,
      `real node (real pods, smoke check on), each a new commit built: wall / rollout / smoke check (${loadOf(k)})`,
      `${cell(k.wallMs, 'ms')} / ${cell(k.rolloutMs, 'ms')} / ${cell(k.smokeMs, 'ms')}`,
    );
  }
  const f = r.sections.failure;
  if (f)
    for (const v of f.variants) {
      add(
        3,
        `${v.name}: pod shows it → rollback starts (${loadOf(f)})`,
        cell(v.podShowsToRollbackMs, 'ms'),
        `≤ the grace + 1 s = ${v.allowanceMs / 1000} s`,
        v.podShowsToRollbackMs.max <= v.allowanceMs,
      );
      add(
        3,
        `${v.name}: broken image applied → rollback starts (progress deadline ${f.progressDeadlineSeconds} s)`,
        cell(v.applyToRollbackMs, 'ms'),
        'well before the deadline',
        v.applyToRollbackMs.max < f.progressDeadlineSeconds * 1000,
      );
      if (v.applyToServingMs)
        add(
          3,
          `${v.name}: broken image applied → previous release serving again`,
          cell(v.applyToServingMs, 'ms'),
        );
    }
  for (const h of f?.helm ?? [])
    add(
      3,
      `${h.name}: broken image applied → previous release serving again`,
      cell(h.applyToServingMs, 'ms'),
    );
  const helmDefault = f?.helm?.[0]?.applyToServingMs;
  const actionDefault = f?.variants?.[0]?.applyToServingMs;
  if (helmDefault && actionDefault)
    add(
      3,
      'ImagePullBackOff → previous release serving: action (default failure-grace) / Helm 4 (default timeout), medians',
      (actionDefault.median / helmDefault.median).toFixed(2),
      '≤ 0.5',
      actionDefault.median / helmDefault.median <= 0.5,
    );
  const s = r.sections.startup;
  if (s) {
    add(
      4,
      `start-up: \`node dist/index.js\` → first log line (${loadOf(s)})`,
      cell(s.firstLineMs, 'ms'),
      '< 300 ms',
      s.firstLineMs.median < 300,
    );
    add(
      4,
      'bundle: what every run loads, dist/index.js and the chunks it imports (gzip); chunks loaded on demand (Azure, octokit)',
      `${(s.startBytes / 1e6).toFixed(2)} MB in ${s.startFiles} files (${(s.startGzipBytes / 1e6).toFixed(2)} MB); ${s.chunks} chunks, ${(s.chunksBytes / 1e6).toFixed(2)} MB`,
      '< 5 MB',
      s.startBytes < 5e6,
    );
    if (s.hopelessMs)
      add(
        4,
        "fails at once: Azure's HTTP seam → error on an endpoint no retry can reach (not TLS); a retried outage (refused, 3 attempts) beside it",
        `${cell(s.hopelessMs, 'ms')}; outage ${cell(s.outageMs, 'ms')}`,
        '< 1 s',
        s.hopelessMs.max < 1_000,
      );
  }
  const v = r.sections.service;
  if (v) {
    add(
      5,
      `image, uncompressed (app layers) (${loadOf(v)})`,
      `${cell(v.uncompressedMB, 'MB')} (app ${cell(v.uncompressedAppMB, 'MB')})`,
    );
    add(
      5,
      'image, gzip of docker save (app layers)',
      `${cell(v.gzipMB, 'MB')} (app ${cell(v.gzipAppMB, 'MB')})`,
    );
    add(
      5,
      'image, compressed in the registry',
      `${v.registry.compressedMB.toFixed(1)} MB in ${v.registry.layers} layers`,
    );
    add(5, 'cold build (buildx, --no-cache)', cell(v.coldBuildS, 's'));
    add(
      5,
      'warm build (one-line change in service/src)',
      cell(v.warmBuildS, 's'),
      '< 15 s',
      v.warmBuildS.median < 15,
    );
    add(5, 'no-change rebuild', cell(v.noChangeBuildS, 's'));
    add(5, 'container start → first 200 on /readyz', cell(v.startMs, 'ms'));
    add(6, 'GET /: the image (Nest + Fastify), requests/s', cell(v.imageRps, 'req/s', 0));
    add(6, 'GET /: bare Fastify, same JSON, requests/s', cell(v.bareRps, 'req/s', 0));
    add(
      6,
      'p99 latency: image / bare Fastify',
      `${cell(v.imageP99Ms, 'ms', 2)} / ${cell(v.bareP99Ms, 'ms', 2)}`,
    );
    add(6, 'requests/s ratio image / bare (same run)', ratioCell(v.rpsRatio));
    if (v.loggingFastifyRatio) {
      add(
        6,
        'GET /, on the host, logs to /dev/null: `Fastify({ logger: true })` / Nest on Express (platform-express, the same module, no request log), requests/s',
        `${cell(v.loggingFastifyRps, 'req/s', 0)} / ${cell(v.nestExpressRps, 'req/s', 0)}`,
      );
      add(
        6,
        'requests/s ratio archetype (dist/main.js, its JSON line per request) / logging Fastify (a line per request and per response), same run',
        ratioCell(v.loggingFastifyRatio),
        '≥ 0.85',
        v.loggingFastifyRatio.median >= 0.85,
      );
      add(
        6,
        'requests/s ratio archetype / Nest on Express, same run',
        ratioCell(v.nestExpressRatio),
        '≥ 1.0',
        v.nestExpressRatio.median >= 1.0,
      );
    }
    add(
      6,
      'same ratio, service on the host without docker: logs to /dev/null / LOG_LEVEL=warn',
      `${ratioCell(v.hostRatio)} / ${ratioCell(v.hostQuietRatio)}`,
    );
  }
  const p = r.sections.preview;
  if (p) {
    add(7, `preview: create (pull_request opened) (${loadOf(p)})`, cell(p.createMs, 'ms'));
    add(7, 'preview: tear down (pull_request closed, namespace gone)', cell(p.teardownMs, 'ms'));
  }
  const t = r.sections.tokens;
  if (t) {
    add(
      8,
      `AKS path, wall: Entra sign-in, ARM kubeconfig, a token per request renewed before expiry (${loadOf(t)})`,
      cell(t.renewingWallMs, 'ms'),
    );
    add(
      8,
      'fixed-token version, wall: one token fetched beforehand, in the kubeconfig',
      cell(t.fixedWallMs, 'ms'),
    );
    add(8, 'difference, run by run (sign-in, ARM and tokens)', cell(t.differenceMs, 'ms'));
    add(8, 'cluster tokens fetched per deploy', cell(t.fetched, 'tokens', 0));
    add(8, 'time spent fetching them per deploy', cell(t.fetchMs, 'ms'));
    add(8, 'API requests given a token per deploy', cell(t.requests, 'requests', 0));
    add(
      8,
      'long deploy on 60 s tokens (pods Ready after 130 s): wall / tokens fetched / ms fetching',
      `${(t.long.wallMs / 1000).toFixed(1)} s / ${t.long.fetched} / ${t.long.fetchMs} ms`,
      'renewed (≥ 3 tokens), no 401',
      t.long.fetched >= 3,
    );
  }
  const kept = Object.entries(r.sections)
    .filter(([, v]) => v.keptFrom)
    .map(([name, v]) => `${name} (\`${v.keptFrom.command}\`, ${v.keptFrom.started})`);
  return [
    `Command: \`${r.command}\` — ${r.started}`,
    ...(kept.length > 0 ? ['', `Kept from earlier runs, not measured by this one: ${kept.join('; ')}.`] : []),
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, Docker ${m.docker}, buildx ${m.buildx}, Kubernetes ${m.kubernetes} (kwok nodes); ` +
      `load average (1/5/15 min) at start ${r.loadAtStart.join(' / ')}, at end ${r.loadAtEnd.join(' / ')}`,
    '',
    'Each figure: median (min–max, n runs); ratios are taken run by run, within the same run.',
    '',
    '| # | figure | result | target | |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
