import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { serviceDir } from './support.js';

// Builds service/Dockerfile with the real Docker engine and runs the image as Kubernetes will: read-only
// root filesystem, non-root. NODE_IMAGE (e.g. from `scripts/local-stack env`) picks the base image.
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const skip = process.env.ARCHETYPE_SKIP_DOCKER === '1';
if (skip) console.warn('image.spec.ts skipped: ARCHETYPE_SKIP_DOCKER=1 (the image is not built or run)');

const id = `${process.pid}-${Date.now()}`;
const tag = `archetype-image-test:${id}`;
const name = `archetype-image-test-${id}`;
const revision = `test${id.replace('-', '')}`;

async function docker(args: string[], timeoutMs = 60_000, env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run('docker', args, {
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
      env: env ?? process.env,
    });
    return stdout.trim();
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(
      `docker ${args.join(' ')} failed: ${(stderr ?? '').trim().split('\n').slice(-25).join('\n') || message}`,
    );
  }
}

(skip ? describe.skip : describe)('the image (service/Dockerfile)', () => {
  let base: string;

  beforeAll(async () => {
    await docker(['version', '--format', '{{.Server.Version}}'], 15_000).catch((error: Error) => {
      throw new Error(
        `the Docker engine is not reachable: ${error.message}\n` +
          'Start it (scripts/local-stack up), or set ARCHETYPE_SKIP_DOCKER=1 to skip the image tests.',
      );
    });
  }, 20_000);

  afterAll(async () => {
    await docker(['rm', '--force', name]).catch(() => undefined);
    await docker(['image', 'rm', '--force', tag]).catch(() => undefined);
  }, 60_000);

  test(
    'builds for linux/amd64 with the OCI labels',
    async () => {
      const args = [
        '--platform',
        'linux/amd64',
        '--tag',
        tag,
        '--build-arg',
        `REVISION=${revision}`,
        '--build-arg',
        'SOURCE=https://example.com/archetype',
        '--build-arg',
        `CREATED=${new Date().toISOString()}`,
      ];
      if (process.env.NODE_IMAGE) args.push('--build-arg', `NODE_IMAGE=${process.env.NODE_IMAGE}`);
      // Behind a TLS-intercepting proxy the host trusts an extra CA; the build's npm must trust it too.
      const ca = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'].find(
        (f) => f && existsSync(f),
      );
      if (ca) args.push('--secret', `id=ca_certs,src=${ca}`);
      const buildx = await docker(['buildx', 'version'], 15_000).then(
        () => true,
        () => false,
      );
      const build = buildx
        ? docker(['buildx', 'build', '--load', ...args, serviceDir], 15 * 60_000)
        : docker(['build', ...args, serviceDir], 15 * 60_000, { ...process.env, DOCKER_BUILDKIT: '1' });
      await build.catch((error: Error) => {
        const hint = process.env.NODE_IMAGE
          ? ''
          : '\nNODE_IMAGE is unset, so the base was node:24-bookworm-slim; `scripts/local-stack env` prints a local one.';
        throw new Error(error.message + hint);
      });

      const image = JSON.parse(await docker(['image', 'inspect', tag]))[0];
      expect(image.Os).toBe('linux');
      expect(image.Architecture).toBe('amd64');
      expect(image.Config.User).toMatch(/^[1-9]\d*(:\d+)?$/); // numeric, so runAsNonRoot can check it
      expect(image.Config.ExposedPorts).toEqual({ '8000/tcp': {} });
      expect(image.Config.Labels).toMatchObject({
        'org.opencontainers.image.revision': revision,
        'org.opencontainers.image.source': 'https://example.com/archetype',
        'org.opencontainers.image.created': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    },
    16 * 60_000,
  );

  test('runs read-only and non-root, and serves /, /healthz and /readyz', async () => {
    await docker([
      'run',
      '--detach',
      // the image just built, or nothing: never a registry's
      '--pull',
      'never',
      '--name',
      name,
      '--read-only',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      // the Deployment's limits
      '--memory',
      '192m',
      '--cpus',
      '0.5',
      '--env',
      'SHUTDOWN_DELAY_MS=1000',
      '--publish',
      '127.0.0.1::8000',
      tag,
    ]);
    const address = (await docker(['port', name, '8000/tcp'])).split('\n')[0];
    base = `http://${address}`;

    const deadline = Date.now() + 30_000;
    let ready = 0;
    while (ready !== 200 && Date.now() < deadline) {
      ready = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (ready !== 200)
      throw new Error(`no 200 from /readyz within 30 s; logs:\n${await docker(['logs', name])}`);

    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(await root.json()).toEqual({ name: 'archetype', version: pkg.version, revision });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const inContainer = (script: string) => docker(['exec', name, 'node', '-e', script]);
    // PID 1 is the server itself (no shell in between, so it gets SIGTERM), and not root.
    const proc1 = (file: string) =>
      inContainer(`process.stdout.write(require('fs').readFileSync('/proc/1/${file}', 'utf8'))`);
    expect((await proc1('cmdline')).split('\0')).toEqual([
      'node',
      '--max-old-space-size-percentage=50',
      'dist/main.js',
      '',
    ]);
    expect(await proc1('status')).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    const write = await inContainer(
      "try { require('fs').writeFileSync('/app/x', '') } catch (e) { console.log(e.code) }",
    );
    expect(write).toMatch(/EROFS|EACCES/);
    // Production dependencies only, and nothing from the build context but the compiled app.
    const files = await inContainer(
      "const fs = require('fs'); console.log(JSON.stringify([fs.readdirSync('/app'), ['typescript', 'jest', 'npm'].filter((d) => fs.existsSync('/app/node_modules/' + d))]))",
    );
    expect(JSON.parse(files)).toEqual([['dist', 'node_modules', 'package.json'], []]);
    // no shell and no npm in the image: Node, its libraries, the app
    const present = await inContainer(
      "const fs = require('fs'); console.log(JSON.stringify(['/bin/sh', '/bin/bash', '/usr/bin/env', '/usr/local/bin/npm', '/usr/local/lib/node_modules'].filter((p) => fs.existsSync(p))))",
    );
    expect(JSON.parse(present)).toEqual([]);
  }, 90_000);

  test('docker stop (SIGTERM) drains and exits 0', async () => {
    await docker(['stop', '--time', '20', name], 40_000);
    expect(await docker(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');
    const logs = await docker(['logs', name]);
    expect(logs).toContain('shutdown: all requests finished');
  }, 60_000);
});
