import * as exec from '@actions/exec';

// kustomize and helm as the runner has them on PATH (GitHub's hosted runners ship both): argument arrays,
// never a shell; what they print is the manifests, what they say on stderr is the error.

/** How to put the tool on a runner that lacks it. */
const setup: Record<string, string> = {
  kustomize:
    "GitHub's hosted runners have it; on another runner install it before this step (kubernetes-sigs/kustomize releases, or a setup action such as imranismail/setup-kustomize)",
  helm: "GitHub's hosted runners have it; on another runner add `uses: azure/setup-helm@v4` before this step",
};

/** Runs the tool, bounded; its stdout, or an error with its own words. */
export async function runTool(
  tool: 'kustomize' | 'helm',
  args: string[],
  timeoutMs = 120_000,
): Promise<string> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let result: exec.ExecOutput;
  try {
    result = await Promise.race([
      exec.getExecOutput(tool, args, { silent: true, ignoreReturnCode: true }),
      new Promise<never>((_, reject) =>
        timeout.addEventListener('abort', () => reject(new Error(`did not finish in ${timeoutMs / 1000} s`))),
      ),
    ]);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/Unable to locate executable file|ENOENT/.test(text))
      throw new Error(`${tool} is not on this runner's PATH: ${setup[tool]}`, { cause: error });
    throw new Error(`${tool} ${args.join(' ')}: ${text}`, { cause: error });
  }
  if (result.exitCode !== 0)
    throw new Error(
      `${tool} ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  return result.stdout;
}
