import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// A team's own repository, which nobody here wrote for the action: its app in app/ (Dockerfile there),
// manifests in deploy/, a web Deployment behind a Service on 8080 that serves /healthz only, a worker without
// a Service, a CronJob. dist/index.js runs on that checkout (scripts/run-action.mjs --workspace), as the
// runner runs it on a workflow's `uses: <owner>/archetype-deploy@v1`, against the local target.

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('shop');
let deployer: ProductionIdentity;
const repo = mkdtempSync(join(tmpdir(), 'shop-repo-'));
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const labels = (name: string) => ({ 'app.kubernetes.io/name': name });
const podSpec = (command: string[]) => ({
  ...restrictedPod,
  containers: [
    {
      ...restrictedContainer,
      name: 'main',
      image: 'shop',
      command,
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
      resources: { requests: { cpu: '10m', memory: '32Mi' } },
    },
  ],
});
const objects = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels('web') },
      template: { metadata: { labels: labels('web') }, spec: podSpec(['node', '/srv/server.js']) },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: labels('web'), ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'worker' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels('worker') },
      template: {
        metadata: { labels: labels('worker') },
        // it serves nothing: no port, no probe
        spec: {
          ...restrictedPod,
          containers: [
            {
              ...restrictedContainer,
              name: 'main',
              image: 'shop',
              command: ['node', '-e', 'setInterval(() => {}, 60000)'],
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly' },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: {
        spec: {
          template: { spec: { ...podSpec(['node', '-e', 'process.exit(0)']), restartPolicy: 'Never' } },
        },
      },
    },
  },
];
beforeAll(async () => {
  mkdirSync(join(repo, 'app'));
  mkdirSync(join(repo, 'deploy'));
  writeFileSync(
    join(repo, 'app', 'server.js'),
    "require('node:http').createServer((q, s) => { s.statusCode = q.url === '/healthz' ? 200 : 404; s.end(); }).listen(8080);\n",
  );
  writeFileSync(
    join(repo, 'app', 'Dockerfile'),
    [
      'ARG NODE_IMAGE',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's build argument
      'FROM ${NODE_IMAGE}',
      'COPY server.js /srv/server.js',
      'USER 10001:10001',
      'CMD ["node", "/srv/server.js"]',
      '',
    ].join('\n'),
  );
  for (const [i, o] of objects.entries())
    writeFileSync(join(repo, 'deploy', `${i}-${o.metadata.name}.yaml`), JSON.stringify(o, null, 2));
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=shop', '-c', 'user.email=shop@example.com', 'commit', '-q', '-m', 'shop');
  deployer = await productionIdentity(cluster, [namespace], 'shop');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
  rmSync(repo, { recursive: true, force: true });
});

const inputs = (extra: Record<string, string> = {}) => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  'app-name': 'shop',
  // the manifests' image placeholder is 'shop'; the repository is this test's own
  'image-name': `${namespace}/shop`,
  namespace,
  ...extra,
});

describe("another repository's app", () => {
  it("names the inputs to set when the action's own defaults do not fit, before anything is built", async () => {
    const run = await runAction(inputs(), { workspace: repo });
    expect(run.code).toBe(1);
    expect(run.error).toContain(
      `input 'manifests': there is no folder 'k8s' in ${repo} ('k8s' is the default`,
    );
    const noContext = await runAction(inputs({ manifests: 'deploy' }), { workspace: repo });
    expect(noContext.error).toContain("input 'context': there is no folder 'service'");
    expect(noContext.log).not.toContain('docker buildx build');
  });

  it('builds app/ and deploys deploy/: the web, the worker and the CronJob on the image of its HEAD', async () => {
    const head = git('rev-parse', 'HEAD');
    const run = await runAction(inputs({ manifests: 'deploy', context: 'app' }), { workspace: repo });
    expectRunOk(run);
    expect(run.log).toContain(`deploying ${head.slice(0, 7)} to production (namespace ${namespace})`);
    const image = run.outputs.image ?? '';
    expect(image).toMatch(new RegExp(`/${namespace}/shop@sha256:[0-9a-f]{64}$`));
    type Workload = { spec: { template: { spec: { containers: { image: string }[] } } } };
    for (const name of ['web', 'worker']) {
      const d = await get<Workload>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
      expect([name, d?.spec.template.spec.containers[0]?.image]).toEqual([name, image]);
    }
    const cron = await get<{ spec: { jobTemplate: Workload } }>(
      cluster,
      `/apis/batch/v1/namespaces/${namespace}/cronjobs/nightly`,
    );
    expect(cron?.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe(image);
  });
});
