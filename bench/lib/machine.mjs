// What the figures were measured on: printed with the table, since every figure depends on it.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

const tryRun = (cmd, args) => {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    return 'unknown';
  }
};

export const load = () => loadavg().map((l) => Number(l.toFixed(2)));

export function machine(kubeVersion) {
  return {
    cpu: `${cpus()[0]?.model ?? 'unknown'}`.replace(/\s+/g, ' '),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    docker: tryRun('docker', ['version', '--format', '{{.Server.Version}}']),
    buildx: tryRun('docker', ['buildx', 'version']).split(' ').slice(1, 2).join(''),
    kubernetes: kubeVersion,
  };
}
