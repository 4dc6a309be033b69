import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as exec from '@actions/exec';

// The one seam every docker call goes through: argument arrays (never a shell string), secrets on stdin,
// and a private DOCKER_CONFIG so that credentials never outlive the run or touch the user's config.

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** written to stdin (passwords go here, never into args) */
  input?: string;
  /** stream output to the log (builds); otherwise captured only */
  stream?: boolean;
}

export class Docker {
  /** registry host -> the user name docker signed in with (docker login that succeeded) */
  private readonly signIns = new Map<string, string>();

  private constructor(readonly configDir: string) {}

  /** A docker with an empty, private config; removed by dispose(). Plugins and builders stay reachable. */
  static withPrivateConfig(): Docker {
    const base = process.env.RUNNER_TEMP || tmpdir();
    const dir = mkdtempSync(join(base, 'docker-config-'));
    const original = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
    // buildx is a CLI plugin found under $DOCKER_CONFIG/cli-plugins, and its builders under buildx/
    for (const name of ['cli-plugins', 'buildx'])
      if (existsSync(join(original, name))) symlinkSync(join(original, name), join(dir, name));
    return new Docker(dir);
  }

  async run(args: string[], options: RunOptions = {}): Promise<DockerResult> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.DOCKER_CONFIG = this.configDir;
    const result = await exec.getExecOutput('docker', args, {
      env,
      input: options.input === undefined ? undefined : Buffer.from(options.input),
      silent: !options.stream,
      ignoreReturnCode: true,
    });
    if (args[0] === 'login' && result.exitCode === 0 && args[1]) {
      const user = args.indexOf('--username');
      this.signIns.set(args[1], user > 0 ? (args[user + 1] ?? '') : '');
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  /** The user name docker signed in to `registry` with in this run; undefined when it did not sign in. */
  signedInAs(registry: string): string | undefined {
    return this.signIns.get(registry);
  }

  /** run() that throws with docker's own message when the command fails. */
  async check(args: string[], options: RunOptions = {}): Promise<DockerResult> {
    const result = await this.run(args, options);
    if (result.exitCode !== 0)
      throw new Error(
        `docker ${args.slice(0, args[0] === 'buildx' ? 3 : 1).join(' ')} failed (exit ${result.exitCode}): ${explainingLine(result.stderr || result.stdout)}`,
      );
    return result;
  }

  dispose(): void {
    rmSync(this.configDir, { recursive: true, force: true });
  }
}

// docker ends many errors with a pointer to its help, which hides the line that says what went wrong
const helpLine = /^(Run|See) 'docker.*--help'|^Usage:|^For more information/;
const why =
  /error|unknown|denied|cannot|can't|failed|not found|unauthori[sz]ed|no such|refused|invalid|timeout|x509/i;

/** The line of docker's output that says why it failed: the last one that reads like a cause. */
export function explainingLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !helpLine.test(l));
  return [...lines].reverse().find((l) => why.test(l)) ?? lines.at(-1) ?? '(no output)';
}

/** JSON printed by docker or buildx; anything else fails naming the tool and quoting what it printed. */
export function toolJson<T>(text: string, tool: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(
      `${tool} printed something that is not JSON: ${JSON.stringify(text.trim().slice(0, 300))}`,
      { cause: error },
    );
  }
}
