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
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  /** run() that throws with docker's own message when the command fails. */
  async check(args: string[], options: RunOptions = {}): Promise<DockerResult> {
    const result = await this.run(args, options);
    if (result.exitCode !== 0) {
      const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
      throw new Error(`docker ${args[0]} failed (exit ${result.exitCode}): ${detail}`);
    }
    return result;
  }

  dispose(): void {
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
