#!/usr/bin/env node
// The release notes of a version, from CHANGELOG.md's section for it; with --check, also that the tag is
// package.json's version and that its commit is on the default branch (release.yml runs this).
//
//   node scripts/release-notes.mjs v1.2.3                         prints the notes of 1.2.3
//   node scripts/release-notes.mjs --check v1.2.3 origin/main     the same, after the checks
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args[0] === '--check';
const [tag, branch] = check ? args.slice(1) : args;

function fail(message) {
  console.error(`release-notes: ${message}`);
  process.exit(1);
}

const version = /^v(\d+\.\d+\.\d+)$/.exec(tag ?? '')?.[1];
if (!version) fail(`'${tag ?? ''}' is not a version tag like v1.2.3`);
if (check) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  if (pkg !== version)
    fail(`tag ${tag} is not package.json's version ${pkg}: set "version" to ${version} first`);
  if (!branch) fail('--check needs the default branch, e.g. origin/main');
  try {
    execFileSync('git', ['merge-base', '--is-ancestor', `${tag}^{commit}`, branch], {
      cwd: root,
      stdio: 'ignore',
    });
  } catch {
    fail(`tag ${tag} is not on ${branch}: a version is made from a commit of the default branch`);
  }
}

// "## [1.2.3] - 2026-12-04" or "## 1.2.3", up to the next "## "
const lines = readFileSync(join(root, 'CHANGELOG.md'), 'utf8').split('\n');
const start = lines.findIndex((l) =>
  new RegExp(`^## \\[?${version.replace(/\./g, '\\.')}\\]?(\\s|$)`).test(l),
);
if (start < 0) fail(`CHANGELOG.md has no section '## [${version}]'`);
const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
const notes = lines
  .slice(start + 1, end < 0 ? undefined : end)
  .join('\n')
  .trim();
if (!notes) fail(`CHANGELOG.md's section for ${version} is empty`);
console.log(notes);
