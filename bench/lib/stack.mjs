// The local target's environment (scripts/local-stack env) in this process, unless the caller has it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './action.mjs';
import { kubeconfigText } from './kube.mjs';

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

/** The action's inputs for the local target: its registry, cluster and build arguments (after loadStackEnv). */
export function targetInputs() {
  return {
    registry: process.env.REGISTRY,
    'registry-username': process.env.REGISTRY_USERNAME,
    'registry-password': process.env.REGISTRY_PASSWORD,
    kubeconfig: kubeconfigText(),
    'build-args': `NODE_IMAGE=${process.env.NODE_IMAGE}`,
    'build-secret-files': 'ca_certs=/etc/ssl/certs/ca-certificates.crt',
  };
}
