#!/usr/bin/env node
// Runs the action (dist/index.js) the way a GitHub runner does: inputs as INPUT_* with action.yml's
// defaults, the event payload in a file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. Used by the
// local main job and the end-to-end tests.
//
//   node scripts/run-action.mjs [--event push] [--payload file.json] [--sha SHA] [--ref refs/heads/main]
//        [--input name=value ...] [--input-file name=path ...] [--input-env name=VARIABLE ...]
//        [--outputs-file out.json] [--summary-file summary.md]
//        [--workspace DIR] [--repository owner/name]
// --input-file and --input-env keep secrets (a kubeconfig, a password) out of the process list.
// --workspace runs it on another repository's checkout (GITHUB_WORKSPACE, the folder the inputs' paths are
// relative to; the commit is its HEAD), e.g. your own app against a kind cluster:
//   node scripts/run-action.mjs --workspace ~/src/my-app --input mode=deploy --input app-name=my-app \
//     --input registry=localhost:5001 --input-file kubeconfig=$HOME/.kube/config --input smoke-check=false
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const options = {
  event: 'push',
  inputs: {},
  payload: undefined,
  sha: undefined,
  ref: 'refs/heads/main',
  workspace: root,
  repository: undefined,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const flag = argv[i];
  const value = argv[++i];
  if (value === undefined) usage(`${flag} needs a value`);
  if (flag === '--input' || flag === '--input-file' || flag === '--input-env') {
    const eq = value.indexOf('=');
    if (eq <= 0) usage(`${flag} ${value}: use name=value`);
    const [name, rest] = [value.slice(0, eq), value.slice(eq + 1)];
    if (flag === '--input') options.inputs[name] = rest;
    else if (flag === '--input-file') options.inputs[name] = readFileSync(rest, 'utf8');
    else if (process.env[rest] === undefined) usage(`${flag} ${value}: variable ${rest} is not set`);
    else options.inputs[name] = process.env[rest];
  } else if (flag === '--event') options.event = value;
  else if (flag === '--payload') options.payload = value;
  else if (flag === '--sha') options.sha = value;
  else if (flag === '--ref') options.ref = value;
  else if (flag === '--outputs-file') options.outputsFile = value;
  else if (flag === '--summary-file') options.summaryFile = value;
  else if (flag === '--workspace') options.workspace = resolve(value);
  else if (flag === '--repository') options.repository = value;
  else usage(`unknown option ${flag}`);
}

const action = parse(readFileSync(join(root, 'action.yml'), 'utf8'));
const env = { ...process.env };
for (const [name, spec] of Object.entries(action.inputs)) {
  const fallback = String(spec.default ?? '');
  env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = fallback.includes('${{') ? '' : fallback;
}
for (const [name, value] of Object.entries(options.inputs)) {
  if (!(name in action.inputs)) usage(`action.yml has no input '${name}'`);
  env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
}

const work = mkdtempSync(join(tmpdir(), 'run-action-'));
const sha = options.sha ?? git('rev-parse', 'HEAD');
const repository =
  options.repository ??
  (options.workspace === root ? 'local/archetype' : `local/${basename(options.workspace)}`);
const payload = options.payload
  ? JSON.parse(readFileSync(options.payload, 'utf8'))
  : { repository: { full_name: repository, default_branch: 'main' }, after: sha };
writeFileSync(join(work, 'event.json'), JSON.stringify(payload));
for (const file of ['output', 'summary', 'env', 'path', 'state']) writeFileSync(join(work, file), '');
Object.assign(env, {
  GITHUB_ACTIONS: 'true',
  GITHUB_EVENT_NAME: options.event,
  GITHUB_EVENT_PATH: join(work, 'event.json'),
  GITHUB_SHA: sha,
  GITHUB_REF: options.ref,
  GITHUB_REPOSITORY: repository,
  GITHUB_SERVER_URL: env.GITHUB_SERVER_URL ?? 'https://github.com',
  GITHUB_RUN_ID: env.GITHUB_RUN_ID ?? '1',
  GITHUB_WORKSPACE: options.workspace,
  RUNNER_TEMP: work,
  GITHUB_OUTPUT: join(work, 'output'),
  GITHUB_STEP_SUMMARY: join(work, 'summary'),
  GITHUB_ENV: join(work, 'env'),
  GITHUB_PATH: join(work, 'path'),
  GITHUB_STATE: join(work, 'state'),
});

const result = spawnSync(process.execPath, [join(root, 'dist/index.js')], {
  cwd: options.workspace,
  env,
  stdio: 'inherit',
});
const outputs = parseFileCommands(readFileSync(join(work, 'output'), 'utf8'));
const summary = readFileSync(join(work, 'summary'), 'utf8');
if (options.outputsFile) writeFileSync(options.outputsFile, JSON.stringify(outputs, null, 2));
if (options.summaryFile) writeFileSync(options.summaryFile, summary);
rmSync(work, { recursive: true, force: true });
process.exit(result.status ?? 1);

function git(...args) {
  return execFileSync('git', args, { cwd: options.workspace, encoding: 'utf8' }).trim();
}

// GITHUB_OUTPUT holds name<<DELIMITER\nvalue\nDELIMITER blocks (and plain name=value lines)
function parseFileCommands(text) {
  const values = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      values[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('='))
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return values;
}

function usage(message) {
  console.error(`run-action: ${message}`);
  process.exit(2);
}
