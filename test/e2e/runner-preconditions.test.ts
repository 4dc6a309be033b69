import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { jest } from '@jest/globals';
import { Registry } from '../../src/registry/client.js';
import { addTags } from '../../src/registry/images.js';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { nxdomainServer } from '../helpers/dns.js';
import { pushNodeScriptImage } from '../helpers/images.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// A runner that lacks part of what the build needs, through dist/index.js: the real docker CLI with its
// buildx plugin hidden (a mount namespace lays an empty folder over the plugin's system folder), no docker
// on PATH, and a daemon that is not there. Each fails with its fix when the commit needs a build: before docker
// signs in and before anything reaches the cluster. A commit whose image is already in the registry needs no
// docker at all. And a cluster whose name does not resolve fails at once, not after the 90 s kept for a
// restarting API server.

jest.setTimeout(120_000);

const cluster = testCluster();
const empty = mkdtempSync(join(tmpdir(), 'no-plugins-'));
const namespace = namespaceName('e2e-runner');

const inputs = () => ({ ...localTargetInputs(), mode: 'deploy', namespace, host: 'runner.localhost' });
const sha = 'a1'.repeat(20);

afterAll(async () => {
  rmSync(empty, { recursive: true, force: true });
  await deleteNamespace(cluster, namespace);
});

/** Where the docker CLI finds buildx outside DOCKER_CONFIG (the system plugin folders). */
function systemPluginDirs(): string[] {
  const plugins = JSON.parse(
    execFileSync('docker', ['info', '--format', '{{json .ClientInfo.Plugins}}']).toString(),
  ) as {
    Name: string;
    Path: string;
    ShadowedPaths?: string[];
  }[];
  const buildx = plugins.find((p) => p.Name === 'buildx');
  return [buildx?.Path ?? '', ...(buildx?.ShadowedPaths ?? [])]
    .filter((p) => p && !p.startsWith(process.env.HOME ?? '~'))
    .map((p) => dirname(p));
}

describe('a runner without what the build needs', () => {
  it('without the buildx plugin: names docker/setup-buildx-action, quoting docker', async () => {
    const mounts = systemPluginDirs()
      .map((dir) => `mount --bind '${empty}' '${dir}'`)
      .join(' && ');
    const run = await runAction(inputs(), {
      sha,
      // DOCKER_CONFIG without cli-plugins hides the user's copy; the mount the system's
      env: { DOCKER_CONFIG: empty },
      prefix: ['unshare', '--mount', '--', 'sh', '-c', `${mounts || 'true'} && exec "$@"`, 'sh'],
    });
    expect(run.code).toBe(1);
    expect(run.error).toBe(
      "docker buildx is not installed (docker: unknown command: docker buildx): add the step 'uses: docker/setup-buildx-action' before this action, or install the docker-buildx plugin",
    );
    expect(run.log).not.toContain('::group::preflight');
    expect(await get(cluster, `/api/v1/namespaces/${namespace}`)).toBeUndefined();
  });

  it('without docker on PATH: says so', async () => {
    const run = await runAction(inputs(), { sha, env: { PATH: empty } });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /^docker is not installed on this runner, or not on PATH \(Unable to locate executable file: docker/,
    );
    expect(await get(cluster, `/api/v1/namespaces/${namespace}`)).toBeUndefined();
  });

  it('without docker on PATH, a commit whose image is in the registry deploys', async () => {
    const target = localTargetInputs();
    const pushed = 'b2'.repeat(20);
    // built for that commit, as the action labels its builds: only such an image is reused
    const image = await pushNodeScriptImage(target['image-name'] ?? '', 'setInterval(() => {}, 60_000)', {
      'org.opencontainers.image.revision': pushed,
    });
    const registry = new Registry(process.env.REGISTRY ?? '', {
      username: process.env.REGISTRY_USERNAME ?? '',
      password: process.env.REGISTRY_PASSWORD ?? '',
    });
    await addTags(registry, image, [`${image.split('@')[0]}:${pushed}`]);
    const run = await runAction(inputs(), { sha: pushed, env: { PATH: empty } });
    expectRunOk(run);
    expect(run.log).toContain('is already in the registry');
    // nothing was pushed, and the log does not say so
    expect(run.log).not.toMatch(/^pushed /m);
    const live = await get<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
      cluster,
      `/apis/apps/v1/namespaces/${namespace}/deployments/archetype`,
    );
    expect(live?.spec.template.spec.containers[0]?.image).toBe(image);
  });

  it('with a daemon that does not answer: quotes docker and names DOCKER_HOST', async () => {
    const run = await runAction(inputs(), {
      sha,
      env: { DOCKER_HOST: `unix://${join(empty, 'docker.sock')}` },
    });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /^the docker daemon does not answer \(Cannot connect to the Docker daemon at unix:\/\/.*docker\.sock\. Is the docker daemon running\?\): start it, or point DOCKER_HOST/,
    );
  });

  it('a kubeconfig whose server does not resolve fails at once, naming the host and the fix', async () => {
    const dns = await nxdomainServer();
    const resolv = join(empty, 'resolv.conf');
    writeFileSync(resolv, 'nameserver 127.0.0.1\n');
    const kubeconfig = localTargetInputs().kubeconfig?.replace(
      /server: \S+/,
      'server: https://api.no-such-cluster.example:443',
    );
    try {
      const started = Date.now();
      const run = await runAction(
        { ...inputs(), kubeconfig: kubeconfig ?? '', mode: 'rollback', environment: 'production' },
        {
          sha,
          prefix: [
            'unshare',
            '--mount',
            '--',
            'sh',
            '-c',
            `mount --bind '${resolv}' /etc/resolv.conf && exec "$@"`,
            'sh',
          ],
        },
      );
      console.log(`unresolvable API server: the run failed after ${Date.now() - started} ms`);
      expect(run.code).toBe(1);
      expect(run.error).toContain(
        "cannot reach the API server: host api.no-such-cluster.example does not resolve (ENOTFOUND): check the kubeconfig's server; a private cluster's name resolves only inside its virtual network",
      );
      expect(run.log).not.toContain('trying again');
      // the lookup went to the local server, and nowhere else
      expect(dns.names).toContain('api.no-such-cluster.example');
    } finally {
      await dns.close();
    }
  });
});
