// The local target's environment (scripts/local-stack env) in this process, unless the caller has it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './action.mjs';

export function loadStackEnv() {
  if (process.env.REGISTRY && process.env.KUBECONFIG && process.env.REGISTRY_PASSWORD) return;
  const result = spawnSync(join(root, 'scripts/local-stack'), ['env'], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0)
    throw new Error(
      `scripts/local-stack env failed; start the local target first (scripts/local-stack up):\n${result.stderr}`,
    );
  for (const m of result.stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm))
    process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
}
