// kubectl of the control plane's own version, built from the Go module with the wrapper module the local
// target builds the control plane with (tools/kubernetes), and cached by version. go.sum there lacks
// kubectl's own dependencies, so a copy of the wrapper resolves them (-mod=mod); tools/ is left as it is.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { root } from './action.mjs';

export function cacheDir() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'archetype-deploy');
}

/** Path of kubectl <version>, built first when the cache has none (about 30 s warm, minutes cold). */
export function ensureKubectl(version, log = () => {}) {
  if (!/^v1\.\d+\.\d+$/.test(version)) throw new Error(`unexpected Kubernetes version '${version}'`);
  const dir = join(cacheDir(), `kubectl-${version}`);
  const binary = join(dir, 'kubectl');
  if (existsSync(binary)) return binary;
  const wrapper = join(root, 'tools/kubernetes');
  const pinned = /^require k8s\.io\/kubernetes (v\S+)/m.exec(
    readFileSync(join(wrapper, 'go.mod'), 'utf8'),
  )?.[1];
  if (pinned !== version)
    throw new Error(
      `tools/kubernetes/go.mod pins k8s.io/kubernetes ${pinned}, the control plane runs ${version}: cannot build a kubectl of the same version`,
    );
  const module = join(dir, 'module');
  mkdirSync(module, { recursive: true });
  for (const f of ['go.mod', 'go.sum']) copyFileSync(join(wrapper, f), join(module, f));
  const minor = version.split('.')[1];
  const flags = ['-s', '-w'];
  for (const p of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'])
    flags.push(
      `-X ${p}.gitVersion=${version} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor}`,
      `-X ${p}.gitTreeState=clean -X ${p}.buildDate=1970-01-01T00:00:00Z`,
    );
  log(`building kubectl ${version} from k8s.io/kubernetes/cmd/kubectl (cached in ${dir})`);
  rmSync(`${binary}.tmp`, { force: true });
  execFileSync(
    'go',
    [
      'build',
      '-mod=mod',
      '-trimpath',
      '-ldflags',
      flags.join(' '),
      '-o',
      `${binary}.tmp`,
      'k8s.io/kubernetes/cmd/kubectl',
    ],
    {
      cwd: module,
      env: { ...process.env, GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 3_600_000,
    },
  );
  renameSync(`${binary}.tmp`, binary);
  return binary;
}
