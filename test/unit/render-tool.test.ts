import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/render/tool.js';

// kustomize and helm as the runner has them on PATH: here stand-in scripts named so, to see what runTool does
// with a tool that hangs, fails or is missing (the real ones are the e2e render tests').

const dir = mkdtempSync(join(tmpdir(), 'render-tool-'));
const path = process.env.PATH;
const tool = (name: string, body: string) => {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
};

beforeAll(() => {
  process.env.PATH = `${dir}:${path}`;
});
afterAll(() => {
  process.env.PATH = path;
  rmSync(dir, { recursive: true, force: true });
});

describe('runTool', () => {
  it('stops a tool that does not finish in time: an error saying so, and the process gone', async () => {
    tool('kustomize', `echo $$ > ${dir}/pid\nexec sleep 30`);
    await expect(runTool('kustomize', ['build', '.'], 500)).rejects.toThrow(
      'kustomize build .: did not finish in 0.5 s (stopped)',
    );
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it("fails with the tool's exit code and its own words", async () => {
    tool('helm', 'echo "Error: Chart.yaml file is missing" >&2; exit 1');
    await expect(runTool('helm', ['template', 'x', '.'])).rejects.toThrow(
      'helm template x . failed (exit 1): Error: Chart.yaml file is missing',
    );
  });

  it('gives what it printed', async () => {
    tool('helm', 'echo "kind: ConfigMap"');
    await expect(runTool('helm', ['template'])).resolves.toBe('kind: ConfigMap\n');
  });

  it('says how to get a tool the runner lacks', async () => {
    rmSync(join(dir, 'kustomize'));
    process.env.PATH = dir;
    try {
      await expect(runTool('kustomize', ['version'])).rejects.toThrow(
        /^kustomize is not on this runner's PATH: /,
      );
    } finally {
      process.env.PATH = `${dir}:${path}`;
    }
  });
});
