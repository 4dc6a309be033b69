import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// Versions: package.json's version has its CHANGELOG.md section, which release.yml publishes as the notes of
// tag vX.Y.Z (scripts/release-notes.mjs), after checking that the tag is that version.

const notes = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/release-notes.mjs', ...args], { encoding: 'utf8' });
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('a release', () => {
  it("has release notes for package.json's version", () => {
    const run = notes(`v${version}`);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
    expect(run.stdout).not.toMatch(/^## /m);
  });

  it("refuses a tag that is not a version, has no notes, or is not package.json's version", () => {
    expect(notes('latest').stderr).toContain("'latest' is not a version tag like v1.2.3");
    expect(notes('v0.0.0').stderr).toContain("CHANGELOG.md has no section '## [0.0.0]'");
    const other = notes('--check', 'v99.0.0', 'HEAD');
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`tag v99.0.0 is not package.json's version ${version}`);
  });

  it('is made by release.yml from a version tag: dist checked, the major tag moved', () => {
    const workflow = parse(readFileSync('.github/workflows/release.yml', 'utf8')) as {
      on: { push: { tags: string[] } };
      permissions: Record<string, string>;
      jobs: { release: { steps: { run?: string }[] } };
    };
    expect(workflow.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(workflow.permissions).toEqual({ contents: 'write' });
    const script = workflow.jobs.release.steps.map((s) => s.run ?? '').join('\n');
    expect(script).toContain('npm run check-dist');
    expect(script).toContain('git push --force origin "refs/tags/$major"');
    expect(script).toContain('release-notes.mjs --check');
  });
});
