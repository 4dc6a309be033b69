import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { deleteNamespace, get, namespaceName, testCluster } from '../helpers/cluster.js';
import { restrictedContainer, restrictedPod, scratchContext } from '../helpers/fixtures.js';
import { type ProductionIdentity, productionIdentity } from '../helpers/identities.js';
import { expectRunOk, localTargetInputs, runAction } from '../helpers/run-action.js';

// A Kustomize overlay and a Helm chart as the manifests, end to end through dist/index.js as the production
// identity: rendered with the kustomize and helm on PATH (scripts/local-stack builds the versions a hosted
// runner has: kustomize v5, helm v4), the built image substituted in what they render, before anything is
// built or applied when they fail.

jest.setTimeout(300_000);

const cluster = testCluster();
const namespace = namespaceName('e2e-render');
let deployer: ProductionIdentity;
const root = mkdtempSync(join(tmpdir(), 'render-'));
const buildContext = scratchContext('render');
const write = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};

const labels = { 'app.kubernetes.io/name': 'web' };
const deployment = (name: string, replicas: number | string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...restrictedPod,
          containers: [
            {
              ...restrictedContainer,
              name: 'web',
              image: 'render-app',
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
            },
          ],
        },
      },
    },
  });

beforeAll(async () => {
  // a base and an overlay over it: two replicas and a label of the overlay's
  write('kbase/deployment.yaml', deployment('web', 1));
  write('kbase/kustomization.yaml', 'resources:\n  - deployment.yaml\n');
  write(
    'overlay/kustomization.yaml',
    [
      'resources:',
      '  - ../kbase',
      'labels:',
      '  - pairs: { tier: overlay }',
      'patches:',
      '  - target: { kind: Deployment, name: web }',
      '    patch: |-',
      '      - op: replace',
      '        path: /spec/replicas',
      '        value: 2',
      '',
    ].join('\n'),
  );
  // a chart: names from the release, replicas and a greeting from its values
  write('chart/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 0.1.0\n');
  write('chart/values.yaml', 'replicas: 1\ngreeting: hello\n');
  write(
    'chart/templates/deployment.yaml',
    deployment('{{ .Release.Name }}-web', '{{ .Values.replicas }}').replace(
      '"{{ .Values.replicas }}"',
      '{{ .Values.replicas }}',
    ),
  );
  write(
    'chart/templates/configmap.yaml',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
  );
  write('prod-values.yaml', 'replicas: 3\ngreeting: hi\n');
  // a chart whose template renders a key twice (helm lets it through), and an overlay naming a missing file
  write('badchart/Chart.yaml', 'apiVersion: v2\nname: bad\nversion: 0.1.0\n');
  write(
    'badchart/templates/broken.yaml',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\ndata:\n  key: one\n  key: two\n',
  );
  write('badoverlay/kustomization.yaml', 'resources:\n  - missing.yaml\n');
  deployer = await productionIdentity(cluster, [namespace], 'render-app');
});

afterAll(async () => {
  await deployer?.remove();
  await deleteNamespace(cluster, namespace);
});

const inputs = (extra: Record<string, string>) => ({
  ...localTargetInputs(),
  kubeconfig: deployer.kubeconfig,
  mode: 'deploy',
  'app-name': 'render-app',
  'image-name': `${namespace}/render-app`,
  context: buildContext,
  namespace,
  'rollout-timeout': '120s',
  ...extra,
});

type Deployment = {
  metadata: { labels?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
};
const readDeployment = (name: string) =>
  get<Deployment>(cluster, `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);

describe('manifests rendered before they are applied', () => {
  it('deploys a Kustomize overlay as kustomize build renders it, on the image just built', async () => {
    const run = await runAction(inputs({ manifests: join(root, 'overlay') }), { sha: 'b2'.repeat(20) });
    expectRunOk(run);
    const web = await readDeployment('web');
    expect(web?.spec.replicas).toBe(2);
    expect(web?.metadata.labels?.tier).toBe('overlay');
    expect(web?.spec.template.spec.containers[0]?.image).toBe(run.outputs.image);
    expect(run.outputs.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('deploys a Helm chart as helm template renders it: the release named for the app, helm-values in order', async () => {
    const run = await runAction(
      inputs({ manifests: join(root, 'chart'), 'helm-values': join(root, 'prod-values.yaml') }),
      { sha: 'b3'.repeat(20) },
    );
    expectRunOk(run);
    const web = await readDeployment('render-app-web');
    expect(web?.spec.replicas).toBe(3);
    expect(web?.spec.template.spec.containers[0]?.image).toBe(run.outputs.image);
    const greeting = await get<{ data: Record<string, string> }>(
      cluster,
      `/api/v1/namespaces/${namespace}/configmaps/render-app-greeting`,
    );
    expect(greeting?.data).toEqual({ greeting: 'hi' });
    // the overlay's Deployment is not in this set: pruned, as any object that left the manifests
    expect(await readDeployment('web')).toBeUndefined();
  });

  it("fails before the build with the tool's own words and the template's file, applying nothing", async () => {
    const before = await readDeployment('render-app-web');
    const chart = await runAction(inputs({ manifests: join(root, 'badchart') }), { sha: 'b4'.repeat(20) });
    expect(chart.code).toBe(1);
    // line 7 of the template: its second `key`
    expect(chart.error).toContain(
      `${join(root, 'badchart', 'templates', 'broken.yaml')} (rendered):7: duplicated mapping key`,
    );
    expect(chart.log).not.toContain('docker buildx build');
    const overlay = await runAction(inputs({ manifests: join(root, 'badoverlay') }), {
      sha: 'b4'.repeat(20),
    });
    expect(overlay.code).toBe(1);
    expect(overlay.error).toMatch(/kustomize build .*badoverlay failed \(exit 1\): .*missing\.yaml/);
    expect(overlay.log).not.toContain('docker buildx build');
    expect((await readDeployment('render-app-web'))?.metadata).toEqual(before?.metadata);
  });

  it('names the tool and how to get it when the runner lacks it', async () => {
    const run = await runAction(inputs({ manifests: join(root, 'overlay') }), {
      sha: 'b5'.repeat(20),
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(run.code).toBe(1);
    expect(run.error).toContain("kustomize is not on this runner's PATH: GitHub's hosted runners have it");
  });

  it('refuses helm-values for manifests that are no chart, naming the input', async () => {
    const run = await runAction(
      inputs({ manifests: join(root, 'overlay'), 'helm-values': join(root, 'prod-values.yaml') }),
      { sha: 'b6'.repeat(20) },
    );
    expect(run.code).toBe(1);
    expect(run.error).toContain("input 'helm-values':");
    expect(run.error).toContain('is not a Helm chart (it has no Chart.yaml)');
  });
});
