import { loadManifests, type Manifest } from '../../src/kube/manifests/load.js';
import { isFullReference, render } from '../../src/kube/manifests/render.js';
import { validate } from '../../src/kube/manifests/validate.js';
import type { RenderTarget } from '../../src/plan.js';
import { deployment, ingress, manifestDir, service } from '../helpers/fixtures.js';

const digest = `127.0.0.1:5000/archetype@sha256:${'ab'.repeat(32)}`;
const target: RenderTarget = {
  appName: 'archetype',
  instance: 'archetype-pr-7',
  namespace: 'archetype-pr-7',
  imagePlaceholder: 'archetype',
  image: digest,
  version: 'abc1234',
  host: 'pr-7.preview.example.com',
  replicas: 1,
  labels: { 'archetype-deploy.github.io/pr': '7' },
  annotations: { 'archetype-deploy.github.io/git-sha': 'abc1234def' },
  changeCause: 'deploy abc1234',
};

const load = (files: Record<string, string>) => loadManifests(manifestDir(files), '/');
// biome-ignore lint/suspicious/noExplicitAny: tests read deep paths of rendered objects
const kind = (set: Manifest[], k: string) => set.find((m) => m.object.kind === k)?.object as any;
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected an error');
};

describe('loadManifests', () => {
  it('reads multi-document files in name order with their line numbers', () => {
    const set = load({ 'b.yaml': `${service}---\n${ingress}`, 'a.yml': deployment, 'notes.txt': 'x' });
    expect(set.map((m) => `${m.file.split('/').pop()}:${m.line} ${m.object.kind}`)).toEqual([
      'a.yml:1 Deployment',
      'b.yaml:1 Service',
      'b.yaml:13 Ingress',
    ]);
  });

  it('names the file and line of broken YAML', () => {
    const message = errorOf(() =>
      load({ 'ok.yaml': deployment, 'bad.yaml': 'kind: Service\nmetadata:\n  name: [x\n' }),
    );
    expect(message).toMatch(/Invalid YAML in the manifests:\n- .*bad\.yaml:\d+: /);
  });

  it('rejects a document that is not a mapping and an empty folder', () => {
    expect(errorOf(() => load({ 'list.yaml': '- a\n- b\n' }))).toContain(
      'list.yaml:1: a document must be a Kubernetes object',
    );
    expect(errorOf(() => load({}))).toContain("input 'manifests': no .yaml or .yml files");
  });
});

describe('render', () => {
  it('sets the image by digest, namespace, host, replicas, labels and annotations', () => {
    const set = render(load({ 'all.yaml': [deployment, service, ingress].join('---\n') }), target);
    const d = kind(set, 'Deployment');
    expect(d.metadata.namespace).toBe('archetype-pr-7');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.template.spec.containers[0].image).toBe(digest);
    expect(d.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'archetype' } });
    expect(d.spec.template.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'archetype',
      'app.kubernetes.io/instance': 'archetype-pr-7',
      'app.kubernetes.io/version': 'abc1234',
      'app.kubernetes.io/managed-by': 'archetype-deploy',
      'archetype-deploy.github.io/pr': '7',
    });
    expect(d.metadata.annotations).toEqual({
      'archetype-deploy.github.io/git-sha': 'abc1234def',
      'kubernetes.io/change-cause': 'deploy abc1234',
    });
    expect(kind(set, 'Service').metadata.labels['app.kubernetes.io/instance']).toBe('archetype-pr-7');
    expect(kind(set, 'Ingress').spec.rules[0].host).toBe('pr-7.preview.example.com');
  });

  it('leaves the loaded manifests untouched', () => {
    const set = load({ 'd.yaml': deployment });
    render(set, target);
    expect(kind(set, 'Deployment').spec.template.spec.containers[0].image).toBe('archetype');
  });

  it('refuses a foreign namespace, a Namespace object and a set without the image placeholder', () => {
    const message = errorOf(() =>
      render(
        load({
          'd.yaml': deployment.replace('image: archetype', 'image: nginx'),
          'n.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n',
          's.yaml': service.replace('name: archetype\n', 'name: archetype\n  namespace: kube-system\n'),
        }),
        target,
      ),
    );
    expect(message).toContain("Service/archetype: metadata.namespace is 'kube-system'; remove it");
    expect(message).toContain('Namespace/x: remove the Namespace object');
    expect(message).toContain("no container in the manifests has image 'archetype'");
  });
});

describe('image references', () => {
  const cronJob = (image: string, init = 'archetype') => `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          initContainers:
            - name: wait
              image: ${init}
          containers:
            - name: report
              image: ${image}
`;

  it.each([
    ['registry.k8s.io/pause:3.10', true],
    ['127.0.0.1:5000/tools/once:1', true],
    ['docker.io/library/redis:7.2', true],
    ['localhost/app:latest', true],
    ['[::1]:5000/app:v1', true],
    [`ghcr.io/org/app@sha256:${'ab'.repeat(32)}`, true],
    [`ghcr.io/org/app:1@sha256:${'ab'.repeat(32)}`, true],
    ['redis', false],
    ['redis:7', false],
    ['library/redis:7', false],
    ['myapp', false],
    ['ghcr.io/org/app', false],
    ['localhost:5000/app', false],
    ['ghcr.io/org/app:', false],
    ['ghcr.io/org/app@sha256:abc', false],
  ])('%s is a full reference: %s', (image, full) => {
    expect(isFullReference(image)).toBe(full);
  });

  it("refuses a CronJob's container and a Deployment's init container whose image is a short name, by file and line", () => {
    const message = errorOf(() =>
      render(
        load({
          'd.yaml': deployment.replace(
            '      containers:\n',
            '      initContainers:\n        - name: migrate\n          image: myapp\n      containers:\n',
          ),
          'jobs.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n${cronJob('redis:7')}`,
        }),
        target,
      ),
    );
    expect(message).toMatch(/^Cannot render the manifests:/);
    expect(message).toMatch(
      /jobs\.yaml:6 CronJob\/nightly: container 'report' has image 'redis:7', which is neither the image this run builds nor a full reference/,
    );
    expect(message).toMatch(/d\.yaml:1 Deployment\/archetype: container 'migrate' has image 'myapp'/);
    expect(message).toContain(
      "write the full reference, e.g. docker.io/library/redis:7.2 or <registry>/<repo>@sha256:..., or name the image 'archetype' to get the one this run builds",
    );
    // the placeholder in the CronJob's init container is substituted, not refused
    expect(message).not.toContain("'wait'");
  });

  it('substitutes the placeholder and keeps full references in every pod template', () => {
    const set = render(
      load({ 'd.yaml': deployment, 'c.yaml': cronJob('registry.k8s.io/pause:3.10') }),
      target,
    );
    const pod = kind(set, 'CronJob').spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].image).toBe('registry.k8s.io/pause:3.10');
    expect(pod.initContainers[0].image).toBe(digest);
  });
});

describe('validate', () => {
  const valid = () => load({ 'all.yaml': [deployment, service, ingress].join('---\n') });

  it('accepts the reference set', () => {
    expect(() => validate(render(valid(), target))).not.toThrow();
  });

  it.each([
    [
      'a Deployment selector that matches no pod label',
      {
        'd.yaml': deployment.replace(
          /matchLabels:\n {6}app.kubernetes.io\/name: archetype/,
          'matchLabels:\n      app: archetype',
        ),
      },
      "spec.selector.matchLabels app=archetype does not match the pod template's labels",
    ],
    [
      'a Service selector that matches no pod template',
      { 's.yaml': service.replace('    app.kubernetes.io/name: archetype', '    app: archetype-api') },
      'Service/archetype: spec.selector app=archetype-api matches no pod template in the set',
    ],
    [
      'a Service targeting a port the container does not declare',
      { 's.yaml': service.replace('targetPort: http', 'targetPort: 8080') },
      'port 80 targets 8080, but Deployment/archetype listens on 8000',
    ],
    [
      'an Ingress backend naming a missing Service',
      {
        'i.yaml': ingress.replace(
          'name: archetype\n                port',
          'name: archetype-service\n                port',
        ),
      },
      "backend service 'archetype-service' is not in the set",
    ],
    [
      'an Ingress backend on a port the Service lacks',
      { 'i.yaml': ingress.replace('number: 80', 'number: 8000') },
      'backend port 8000 is not a port of Service/archetype (it has 80)',
    ],
    [
      'a number as label value',
      {
        'd.yaml': deployment.replace(
          '  labels:\n    app.kubernetes.io/name: archetype\nspec',
          '  labels:\n    tier: 1\nspec',
        ),
      },
      'metadata.labels.tier is 1, not a string; quote it',
    ],
    [
      'a name that is not DNS-1123',
      { 'd.yaml': deployment.replace('  name: archetype\n  labels', '  name: Archetype_API\n  labels') },
      "metadata.name 'Archetype_API' is not a valid name",
    ],
    ['a missing kind', { 'x.yaml': 'apiVersion: v1\nmetadata:\n  name: x\n' }, 'kind is missing'],
    [
      'a pre-deploy annotation that is not "true" or "false"',
      {
        'j.yaml':
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: migrate\n  annotations:\n    archetype-deploy.github.io/pre-deploy: 'yes'\n",
      },
      `j.yaml:1 ConfigMap/migrate: metadata.annotations['archetype-deploy.github.io/pre-deploy'] is "yes"; it takes "true"`,
    ],
    [
      'a Deployment marked pre-deploy',
      {
        'd.yaml': deployment.replace(
          '  name: archetype\n  labels',
          "  name: archetype\n  annotations:\n    archetype-deploy.github.io/pre-deploy: 'true'\n  labels",
        ),
      },
      'a Deployment cannot be pre-deploy; mark the Job that must run first',
    ],
  ])('rejects %s', (_case, files, message) => {
    const base: Record<string, string> = { 'd.yaml': deployment, 's.yaml': service, 'i.yaml': ingress };
    expect(errorOf(() => validate(load({ ...base, ...files })))).toContain(message);
  });

  it("refuses a Service's smoke annotation of a value it does not take, naming the annotation", () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        annotations: {
          'archetype-deploy.github.io/smoke-check': 'off',
          'archetype-deploy.github.io/smoke-path': 'healthz',
        },
      },
      spec: { ports: [{ port: 80 }] },
    };
    let message = '';
    try {
      validate([{ file: 'k8s/service.yaml', line: 3, object: service }]);
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain(
      `k8s/service.yaml:3 Service/web: metadata.annotations['archetype-deploy.github.io/smoke-check'] is "off"`,
    );
    expect(message).toContain(
      `metadata.annotations['archetype-deploy.github.io/smoke-path'] is "healthz", not a URL path`,
    );
  });

  it('names the file and line of the bad object', () => {
    const message = errorOf(() =>
      validate(
        load({
          'd.yaml': deployment,
          's.yaml': `${service}---\n${service.replace('name: archetype\n', 'name: other\n').replace('    app.kubernetes.io/name: archetype', '    app: nope')}`,
        }),
      ),
    );
    expect(message).toMatch(/^Invalid manifests \(nothing was applied\):/);
    expect(message).toMatch(/s\.yaml:1\d Service\/other/);
  });
});
