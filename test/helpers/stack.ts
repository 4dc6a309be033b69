import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The local target as the stack tests start it themselves: `scripts/local-stack up` (or found up), then its
// `env` lines, as `eval "$(scripts/local-stack env)"` gives them to a shell.

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
export const stackScript = join(repo, 'scripts/local-stack');

/** `export NAME=VALUE` lines as printed by `scripts/local-stack env` (bash printf %q quoting). */
export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2].replace(/\\(.)/g, '$1');
  }
  return env;
}

/** Brings the local target up (a build on a fresh machine: up to an hour) and returns its environment. */
export async function stackUp(): Promise<Record<string, string>> {
  try {
    await run(stackScript, ['up'], { maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60 * 1000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`scripts/local-stack up failed:\n${e.stderr || e.message}`);
  }
  return parseEnv((await run(stackScript, ['env'])).stdout);
}
