// Runs dist/index.js as a GitHub runner does (the environment scripts/run-action.mjs builds: INPUT_* with
// action.yml's defaults, the event payload, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files), but spawns node on
// dist/index.js itself, so that the time measured is the action's process from start to exit, and every
// log line is stamped with the benchmark's clock as it arrives.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { now } from './clock.mjs';

export const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8'));

/** action.yml's defaults, then the given inputs (each must be declared there). */
export function withDefaults(inputs) {
  const all = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    const fallback = String(spec.default ?? '');
    all[name] = fallback.includes('${{') ? '' : fallback;
  }
  for (const [name, value] of Object.entries(inputs)) {
    if (!(name in action.inputs)) throw new Error(`action.yml has no input '${name}'`);
    all[name] = value;
  }
  return all;
}

/** The environment of one run: inputs (names as in action.yml), event, sha, ref. */
export function runnerEnv(
  inputs,
  { event = 'push', payload, sha, ref = 'refs/heads/main', work, env: extra },
) {
  const env = { ...process.env, ...extra };
  for (const [name, value] of Object.entries(withDefaults(inputs))) env[inputName(name)] = value;
  const repository = 'local/archetype';
  writeFileSync(
    join(work, 'event.json'),
    JSON.stringify(payload ?? { repository: { full_name: repository, default_branch: 'main' }, after: sha }),
  );
  for (const file of ['output', 'summary', 'env', 'path', 'state']) writeFileSync(join(work, file), '');
  return Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: join(work, 'event.json'),
    GITHUB_SHA: sha,
    GITHUB_REF: ref,
    GITHUB_REPOSITORY: repository,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '1',
    GITHUB_WORKSPACE: root,
    RUNNER_TEMP: work,
    GITHUB_OUTPUT: join(work, 'output'),
    GITHUB_STEP_SUMMARY: join(work, 'summary'),
    GITHUB_ENV: join(work, 'env'),
    GITHUB_PATH: join(work, 'path'),
    GITHUB_STATE: join(work, 'state'),
  });
}

const inputName = (name) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

/**
 * Runs the action; resolves with its exit code, wall time (spawn to exit), lines stamped on arrival,
 * outputs, the job summary's step timings, and the ::error:: text. Bounded by timeoutMs (then SIGKILL).
 */
export async function runActionTimed(inputs, options = {}) {
  const work = mkdtempSync(join(tmpdir(), 'bench-action-'));
  try {
    const env = runnerEnv(inputs, { ...options, work });
    const lines = [];
    const started = now();
    const child = spawn(process.execPath, [join(root, 'dist/index.js')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (stream) => {
      let rest = '';
      stream.on('data', (chunk) => {
        const t = now();
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) lines.push({ t, text });
      });
      stream.on('end', () => rest && lines.push({ t: now(), text: rest }));
    };
    collect(child.stdout);
    collect(child.stderr);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    const exited = now();
    clearTimeout(timer);
    const summary = readFileSync(join(work, 'summary'), 'utf8');
    return {
      code,
      started,
      exited,
      wallMs: exited - started,
      lines,
      log: lines.map((l) => l.text).join('\n'),
      outputs: parseOutputs(readFileSync(join(work, 'output'), 'utf8')),
      steps: parseSteps(summary),
      summary,
      error: lines
        .filter((l) => l.text.startsWith('::error::'))
        .map((l) => decode(l.text.slice(9)))
        .join('\n'),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Step durations from the log itself: core.group prints ::group::NAME when a step starts and ::endgroup::
 * when it ends, each stamped on arrival (ms precision, where the job summary rounds to 0.1 s).
 */
export function stepsFromLog(run) {
  const steps = [];
  let open;
  for (const l of run.lines) {
    if (l.text.startsWith('::group::')) open = { name: l.text.slice(9), t: l.t };
    else if (l.text.startsWith('::endgroup::') && open) {
      steps.push({ name: open.name, ms: l.t - open.t });
      open = undefined;
    }
  }
  return steps;
}

/** The first line matching re, with its arrival time. */
export function lineAt(run, re) {
  return run.lines.find((l) => re.test(l.text));
}

function decode(s) {
  return s.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
}

function parseOutputs(text) {
  const values = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (!heredoc) continue;
    const end = lines.indexOf(heredoc[2], i + 1);
    values[heredoc[1]] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return values;
}

/** The job summary's "Steps" table: [{ name, seconds, requests }] */
export function parseSteps(summary) {
  const at = summary.lastIndexOf('>Steps<');
  if (at < 0) return [];
  const table = summary.slice(at, summary.indexOf('</table>', at));
  const steps = [];
  for (const row of table.matchAll(/<tr><td>(.*?)<\/td><td>([\d.]+)<\/td>(?:<td>(\d+)<\/td>)?<\/tr>/g))
    steps.push({
      name: row[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'),
      seconds: Number(row[2]),
      // API requests the action sent while the step ran (older builds do not count them)
      requests: row[3] === undefined ? Number.NaN : Number(row[3]),
    });
  return steps;
}
