import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventFile, FakeGitHub } from '../fakes/github-server.js';
import { runAction } from '../helpers/run-action.js';

// Runs that must touch nothing, through dist/index.js as a runner runs it: pushes that are not releases (a
// feature branch, a tag, a branch deletion) and pull requests that hold no credentials (a deleted fork,
// Dependabot). Every outside system is a recorder: docker is a script on PATH that notes each call, the
// cluster and the registry are a TCP listener that counts connections, GitHub is FakeGitHub.

const token = 'ghs_routingtesttoken';
const github = new FakeGitHub('local', 'archetype', token);
const work = mkdtempSync(join(tmpdir(), 'routing-'));
const dockerCalls = join(work, 'docker-calls');
let listener: Server;
let connections = 0;
let port = 0;

beforeAll(async () => {
  await github.start();
  const bin = join(work, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "$@" >> '${dockerCalls}'\nexit 1\n`);
  chmodSync(join(bin, 'docker'), 0o755);
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});

afterAll(async () => {
  await github.stop();
  await new Promise((resolve) => listener.close(resolve));
});

const kubeconfig = () => `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}'}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`;

const run = (event: string, payload: string, ref: string, env: Record<string, string> = {}) =>
  runAction(
    {
      registry: `127.0.0.1:${port}`,
      'registry-username': 'u',
      'registry-password': 'p',
      kubeconfig: kubeconfig(),
      'github-token': token,
      'preview-domain': 'preview.localhost',
    },
    {
      event,
      payload,
      ref,
      sha: 'c'.repeat(40),
      env: { GITHUB_API_URL: github.url, PATH: `${join(work, 'bin')}:${process.env.PATH}`, ...env },
    },
  );

const push = (edit: (p: Record<string, unknown>) => void) => eventFile('push', edit);

describe('runs that touch nothing', () => {
  it.each([
    [
      'a feature branch push',
      'push',
      push((p) => {
        p.ref = 'refs/heads/feature/x';
      }),
      'refs/heads/feature/x',
      "a push to branch 'feature/x' is not deployed: production takes the default branch (input 'deploy-branches')",
    ],
    [
      'a tag push',
      'push',
      push((p) => {
        p.ref = 'refs/tags/v1.0.0';
      }),
      'refs/tags/v1.0.0',
      "a push of tag 'v1.0.0' is not deployed: no tags are (input 'deploy-tags')",
    ],
    [
      'a deletion of the default branch',
      'push',
      push((p) => {
        p.deleted = true;
        p.after = '0'.repeat(40);
      }),
      'refs/heads/main',
      'refs/heads/main was deleted: there is no commit to deploy',
    ],
    [
      'the close of a pull request whose fork was deleted',
      'pull_request',
      eventFile('pull_request.closed', (p) => {
        (p.pull_request as unknown as { head: { repo: unknown } }).head.repo = null;
      }),
      'refs/pull/7/merge',
      'pull request #7 comes from a repository that was deleted (a fork); such runs get no secrets or OIDC token, so no preview is there to tear down',
    ],
  ])(
    '%s skips with a notice, exit 0, no docker call and no request',
    async (_, event, payload, ref, reason) => {
      const before = { connections, github: github.requests.length };
      const result = await run(event, payload, ref);
      expect(result.error).toBe('');
      expect(result.code).toBe(0);
      expect(result.log).toContain(`::notice::${reason}`);
      expect(existsSync(dockerCalls) ? readFileSync(dockerCalls, 'utf8') : '').toBe('');
      expect(connections).toBe(before.connections);
      expect(github.requests.length).toBe(before.github);
    },
  );

  it('a Dependabot pull request skips the same way', async () => {
    const before = { connections, github: github.requests.length };
    const result = await run('pull_request', eventFile('pull_request.opened'), 'refs/pull/7/merge', {
      GITHUB_ACTOR: 'dependabot[bot]',
    });
    expect(result.code).toBe(0);
    expect(result.log).toContain('::notice::pull request #7 was opened or updated by dependabot[bot]');
    expect(existsSync(dockerCalls)).toBe(false);
    expect(connections).toBe(before.connections);
    expect(github.requests.length).toBe(before.github);
  });

  // Azure only through federation (client id, no secret): every Azure endpoint is the counting listener
  const azureRun = (env: Record<string, string>) =>
    runAction(
      {
        registry: 'archetype.azurecr.io',
        'azure-client-id': '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
        'azure-tenant-id': '72f988bf-86f1-41af-91ab-2d7cd011db47',
        'azure-subscription-id': '11111111-2222-3333-4444-555555555555',
        'resource-group': 'rg',
        'cluster-name': 'aks',
        'azure-authority-host': `https://127.0.0.1:${port}`,
        'azure-resource-manager-endpoint': `https://127.0.0.1:${port}`,
        'github-token': token,
        'preview-domain': 'preview.localhost',
      },
      {
        event: 'pull_request',
        payload: eventFile('pull_request.opened'),
        ref: 'refs/pull/7/merge',
        sha: 'c'.repeat(40),
        env: {
          GITHUB_API_URL: github.url,
          PATH: `${join(work, 'bin')}:${process.env.PATH}`,
          GITHUB_ACTOR: 'renovate[bot]',
          ...env,
        },
      },
    );

  it('a bot pull request that GitHub gives no OIDC token skips with the reason, before any docker or Azure call', async () => {
    const before = { connections, github: github.requests.length };
    const result = await azureRun({ RUNNER_ENVIRONMENT: 'github-hosted', ACTIONS_ID_TOKEN_REQUEST_URL: '' });
    expect(result.code).toBe(0);
    expect(result.log).toContain(
      '::notice::pull request #7 is skipped: GitHub gave this run no OIDC token (as for pull requests from bots and forks',
    );
    expect(existsSync(dockerCalls)).toBe(false);
    expect(connections).toBe(before.connections);
    expect(github.requests.length).toBe(before.github);
  });

  it("a person's pull request without an OIDC token fails, naming the permission to add, before anything else", async () => {
    const before = { connections, github: github.requests.length };
    const result = await azureRun({
      RUNNER_ENVIRONMENT: 'github-hosted',
      ACTIONS_ID_TOKEN_REQUEST_URL: '',
      GITHUB_ACTOR: 'octocat',
    });
    expect(result.code).toBe(1);
    expect(result.log).toContain(
      "pull request #7 cannot sign in to Azure: GitHub gave this run no OIDC token (as for pull requests from bots and forks, or a job without 'permissions: id-token: write')",
    );
    expect(result.log).toContain("Give the job 'permissions: id-token: write' (preview.yml does)");
    expect(existsSync(dockerCalls)).toBe(false);
    expect(connections).toBe(before.connections);
    expect(github.requests.length).toBe(before.github);
  });

  it('a pull request whose OIDC token request GitHub refuses skips the same way', async () => {
    // GitHub's token request ("OpenID Connect in cloud providers": GET $ACTIONS_ID_TOKEN_REQUEST_URL
    // &audience=..., bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN), answering 403 as for a run without the right
    const refusing = createHttpServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Resource not accessible by integration' }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(refusing.address() as { port: number }).port}/idtoken?api-version=2.0`;
    try {
      const before = { connections, github: github.requests.length };
      const result = await azureRun({
        RUNNER_ENVIRONMENT: 'self-hosted',
        ACTIONS_ID_TOKEN_REQUEST_URL: url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
      });
      expect(result.code).toBe(0);
      expect(result.log).toMatch(
        /::notice::pull request #7 is skipped: GitHub refused this run an OIDC token for audience api:\/\/AzureADTokenExchange \(.*403/,
      );
      expect(existsSync(dockerCalls)).toBe(false);
      expect(connections).toBe(before.connections);
      expect(github.requests.length).toBe(before.github);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('the default branch push is not skipped: it reaches the registry (the listener) and fails there', async () => {
    const before = connections;
    const result = await run(
      'push',
      push(() => {}),
      'refs/heads/main',
    );
    expect(result.code).toBe(1);
    expect(result.log).toContain(`deploying ${'c'.repeat(7)} to production`);
    // the commit's image is looked up first; docker is asked only to build one
    expect(connections).toBeGreaterThan(before);
  });
});
