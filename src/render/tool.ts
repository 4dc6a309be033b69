import { execFile } from 'node:child_process';

// kustomize and helm as the runner has them on PATH (GitHub's hosted runners ship both): argument arrays,
// never a shell; what they print is the manifests, what they say on stderr is the error.

/** How to put the tool on a runner that lacks it. */
const setup: Record<string, string> = {
  kustomize:
    "GitHub's hosted runners have it; on another runner install it before this step (kubernetes-sigs/kustomize releases, or a setup action such as imranismail/setup-kustomize)",
  helm: "GitHub's hosted runners have it; on another runner add `uses: azure/setup-helm@v4` before this step",
};

/** Runs the tool, bounded (killed once timeoutMs is over); its stdout, or an error with its own words. */
export async function runTool(
  tool: 'kustomize' | 'helm',
  args: string[],
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      args,
      {
        env: process.env,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (e.code === 'ENOENT')
          return reject(new Error(`${tool} is not on this runner's PATH: ${setup[tool]}`, { cause: error }));
        if (e.killed)
          return reject(
            new Error(`${tool} ${args.join(' ')}: did not finish in ${timeoutMs / 1000} s (stopped)`, {
              cause: error,
            }),
          );
        reject(
          new Error(
            `${tool} ${args.join(' ')} failed (exit ${typeof e.code === 'number' ? e.code : e.message}): ${stderr.trim() || stdout.trim()}`,
            { cause: error },
          ),
        );
      },
    );
  });
}
