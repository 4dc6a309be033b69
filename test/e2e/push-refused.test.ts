import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Registry } from '../../src/registry/client.js';
import { imageDigest } from '../../src/registry/images.js';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod } from '../helpers/fixtures.js';
import { localTargetInputs, runAction } from '../helpers/run-action.js';

// A deploy whose registry identity may pull but not push, through dist/index.js. ACR lets such an identity
// through its token exchange and docker login (Azure/acr docs/AAD-OAuth.md) and refuses the push; so does
// the local bearer registry (distribution's docs/spec/auth/token.md): its token server (tools/registry-token)
// grants the pull-only user REGISTRY_PULL_USERNAME a token without "push", and the registry answers the push
// 401 insufficient_scope. The run fails at once: one build, no retries, no blame on an outage, the message
// names the registry, the repository, the user and the fix; nothing reaches the cluster or the registry.
// (ACR's own sign-in cannot be reached from here: its message, with the roles of both permission modes, is
// test/unit/push-errors.test.ts's.)

jest.setTimeout(180_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-push-refused');
const repo = mkdtempSync(join(tmpdir(), 'push-refused-'));
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function stack(): { registry: string; puller: string; pusher: string; password: string } {
  const env = (name: string) => process.env[name] ?? '';
  const missing = [
    'REGISTRY_BEARER',
    'REGISTRY_PULL_USERNAME',
    'REGISTRY_USERNAME',
    'REGISTRY_PASSWORD',
  ].filter((n) => !env(n));
  if (missing.length > 0)
    throw new Error(
      `${missing.join(', ')} not set: eval "$(scripts/local-stack env)" (REGISTRY_PULL_USERNAME comes with a stack whose registry-token has -pull-user: scripts/local-stack down && scripts/local-stack up)`,
    );
  return {
    registry: env('REGISTRY_BEARER'),
    puller: env('REGISTRY_PULL_USERNAME'),
    pusher: env('REGISTRY_USERNAME'),
    password: env('REGISTRY_PASSWORD'),
  };
}

beforeAll(() => {
  mkdirSync(join(repo, 'app'));
  mkdirSync(join(repo, 'deploy'));
  writeFileSync(join(repo, 'app', 'hello'), 'hello\n');
  // no base image: the build takes a second, and only the push can fail
  writeFileSync(join(repo, 'app', 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\n');
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'app' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'app' } },
        spec: {
          ...restrictedPod,
          containers: [
            {
              ...restrictedContainer,
              name: 'main',
              image: 'app',
              resources: { requests: { cpu: '10m', memory: '16Mi' } },
            },
          ],
        },
      },
    },
  };
  writeFileSync(join(repo, 'deploy', 'app.yaml'), JSON.stringify(deployment, null, 2));
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=team', '-c', 'user.email=team@example.com', 'commit', '-q', '-m', 'app');
});

afterAll(async () => {
  await deleteNamespace(cluster, namespace);
  rmSync(repo, { recursive: true, force: true });
});

describe('a registry user that may pull but not push', () => {
  it('fails at once: one push, no retries, the user and the fix named, nothing applied', async () => {
    const { registry, puller, pusher, password } = stack();
    const run = await runAction(
      {
        ...localTargetInputs(),
        mode: 'deploy',
        'app-name': 'app',
        namespace,
        registry,
        'registry-username': puller,
        'registry-password': password,
        'image-name': `${namespace}/app`,
        context: 'app',
        manifests: 'deploy',
      },
      { workspace: repo },
    );
    expect(run.code).toBe(1);
    // docker signed in: the refusal came with the push, as ACR's does
    expect(run.log).toContain('docker buildx build');
    expect(run.error).toContain(
      `${registry} refused the push of ${namespace}/app: the user '${puller}' (input 'registry-username') has no push rights for that repository. Give it push rights for ${namespace}/app, or set registry-username and registry-password to a user that has them. Then deploy again; nothing was applied.`,
    );
    expect(run.error).toMatch(/docker said: .*denied: requested access to the resource is denied/);
    // one build and push, not three: @actions/exec prints each command it runs
    const builds = run.log.split('\n').filter((l) => /^\[command\]\S*docker buildx build /.test(l));
    expect(builds).toHaveLength(1);
    expect(run.log).not.toContain('trying again');
    expect(run.log).not.toContain('check that the registry is up');

    // nothing reached the cluster, nor the registry
    expect(await get(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/app`)).toBeUndefined();
    const head = git('rev-parse', 'HEAD');
    const asPusher = new Registry(registry, { username: pusher, password });
    expect(await imageDigest(asPusher, `${registry}/${namespace}/app:${head}`)).toBeUndefined();
  });
});
