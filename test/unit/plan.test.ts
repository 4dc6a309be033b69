import { buildFailure, buildxArgs } from '../../src/docker/buildx.js';
import { planDeploy, type RunInfo } from '../../src/plan.js';
import { getSettings } from '../../src/settings.js';
import { readerFor } from '../helpers/action-inputs.js';

const sha = '0123456789abcdef0123456789abcdef01234567';
const run: RunInfo = {
  sha,
  defaultBranch: true,
  repositoryUrl: 'https://github.com/team/archetype',
  runUrl: 'https://github.com/team/archetype/actions/runs/1',
  ghaCache: false,
  publicRepository: true,
  now: new Date('2026-11-30T00:00:00Z'),
};
const settings = (values: Record<string, string> = {}) =>
  getSettings(
    readerFor({
      registry: 'myacr.azurecr.io',
      kubeconfig: 'x',
      host: 'archetype.example.com',
      'preview-domain': 'preview.example.com',
      ...values,
    }),
  );

describe('planDeploy', () => {
  it('plans production: the sha tag, latest once proven, the namespace and host from the inputs', () => {
    const plan = planDeploy(settings(), run);
    expect(plan.environment).toBe('production');
    expect(plan.namespace).toBe('archetype');
    expect(plan.build.tags).toEqual([`myacr.azurecr.io/archetype:${sha}`]);
    expect(plan.movingTags).toEqual(['myacr.azurecr.io/archetype:latest']);
    expect(plan.build.platforms).toEqual(['linux/amd64']);
    expect(plan.build.buildArgs).toEqual({ REVISION: sha });
    expect(plan.build.labels['org.opencontainers.image.revision']).toBe(sha);
    expect(plan.render).toMatchObject({
      instance: 'archetype',
      host: 'archetype.example.com',
      version: '0123456',
    });
    expect(plan.render.replicas).toBeUndefined();
  });

  it('plans a preview in its own namespace, host and tag, with fewer replicas', () => {
    const plan = planDeploy(settings({ 'preview-replicas': '1' }), { ...run, defaultBranch: false }, 7);
    expect(plan.environment).toBe('pr-7');
    expect(plan.namespace).toBe('archetype-pr-7');
    // its own repository, which production never reads
    expect(plan.repository).toBe('myacr.azurecr.io/archetype-preview');
    expect(plan.build.tags).toEqual([`myacr.azurecr.io/archetype-preview:${sha}`]);
    expect(plan.movingTags).toEqual(['myacr.azurecr.io/archetype-preview:pr-7']);
    expect(plan.render).toMatchObject({
      instance: 'archetype-pr-7',
      host: 'pr-7.preview.example.com',
      replicas: 1,
      labels: { 'archetype-deploy.github.io/pr': '7' },
    });
  });

  it('tags a push to another branch with its sha only', () => {
    const plan = planDeploy(settings(), { ...run, defaultBranch: false });
    expect(plan.build.tags).toEqual([`myacr.azurecr.io/archetype:${sha}`]);
    expect(plan.movingTags).toEqual([]);
  });

  it('chooses the build cache', () => {
    expect(planDeploy(settings(), { ...run, ghaCache: true }).build.cacheTo).toEqual([
      'type=gha,mode=max,scope=archetype',
    ]);
    expect(planDeploy(settings(), run).build.cacheTo).toEqual([]);
    expect(planDeploy(settings({ cache: 'registry' }), run).build.cacheFrom).toEqual([
      'type=registry,ref=myacr.azurecr.io/archetype:buildcache',
    ]);
  });

  it('refuses a sha that is not one', () => {
    expect(() => planDeploy(settings(), { ...run, sha: 'main; rm -rf /' })).toThrow(
      "'main; rm -rf /' is not a git sha",
    );
  });
});

describe('buildxArgs', () => {
  it('is an argument array that pushes for the given platforms and writes metadata', () => {
    const plan = planDeploy(settings({ 'build-args': 'NODE_IMAGE=base:24' }), run);
    const args = buildxArgs(plan.build, '/tmp/m.json');
    expect(args.slice(0, 4)).toEqual(['buildx', 'build', '--platform', 'linux/amd64']);
    expect(args).toContain('--push');
    expect(args.join(' ')).toContain('--build-arg NODE_IMAGE=base:24 --build-arg REVISION=');
    expect(args.slice(-3)).toEqual(['--metadata-file', '/tmp/m.json', 'service']);
  });
});

describe('buildFailure', () => {
  it('names the failing step, its last lines and buildx error', () => {
    const output = [
      '#9 [build 4/6] RUN npm run build',
      '#9 ERROR: process "/bin/sh -c npm run build" did not complete successfully: exit code: 2',
      '------',
      ' > [build 4/6] RUN npm run build:',
      "src/main.ts(3,1): error TS2304: Cannot find name 'oops'.",
      '------',
      'ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 2',
    ].join('\n');
    expect(buildFailure(output)).toBe(
      [
        'docker buildx build failed at step [build 4/6] RUN npm run build: ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 2',
        "  src/main.ts(3,1): error TS2304: Cannot find name 'oops'.",
      ].join('\n'),
    );
  });
});

describe("a preview's pod logs", () => {
  it("stay out of a public repository's run, with the command that reads them; shown when private or asked", () => {
    expect(planDeploy(settings(), run, 7).podLogsWithheld).toBe(
      "withheld: a pull request's pod in a public repository (kubectl logs -n archetype-pr-7 <pod> reads it; input show-preview-logs: true shows it here)",
    );
    expect(planDeploy(settings(), { ...run, publicRepository: false }, 7).podLogsWithheld).toBe('');
    expect(planDeploy(settings({ 'show-preview-logs': 'true' }), run, 7).podLogsWithheld).toBe('');
    // production's pods run reviewed code
    expect(planDeploy(settings(), run).podLogsWithheld).toBe('');
  });
});
