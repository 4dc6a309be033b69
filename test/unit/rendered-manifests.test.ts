import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRendered, rendererOf } from '../../src/kube/manifests/load.js';

// What kustomize build and helm template print, read as manifests: each object placed where it came from.
// helm's `# Source: <chart>/templates/<file>` comments are its documented output format (helm template).

const helmOutput = [
  '---',
  '# Source: web/templates/configmap.yaml',
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata:',
  '  name: app-greeting',
  '---',
  '# Source: web/templates/deployment.yaml',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: app-web',
  '',
].join('\n');

describe('rendered manifests', () => {
  it("places helm's objects in their templates, under the chart's folder", () => {
    const objects = loadRendered(helmOutput, 'charts/web', 'helm');
    expect(objects.map((m) => [m.object.kind, m.file, m.line])).toEqual([
      ['ConfigMap', 'charts/web/templates/configmap.yaml (rendered)', 1],
      ['Deployment', 'charts/web/templates/deployment.yaml (rendered)', 1],
    ]);
  });

  it("names a template's line when what it renders is bad YAML", () => {
    const bad = helmOutput.replace('  name: app-web', '  name: app-web\n  name: again');
    expect(() => loadRendered(bad, 'charts/web', 'helm')).toThrow(
      /charts\/web\/templates\/deployment\.yaml \(rendered\):5: duplicated mapping key/,
    );
  });

  it("places kustomize's objects in its output, which says no source", () => {
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n';
    expect(loadRendered(text, 'overlays/prod', 'kustomize').map((m) => `${m.file}:${m.line}`)).toEqual([
      'overlays/prod (kustomize output):1',
      'overlays/prod (kustomize output):6',
    ]);
  });

  it('places each document at its first node, comments and --- aside', () => {
    const text = '# a comment\n\n---\n# about b\n\nkind: B\n---\n---\n\n  kind: C\n';
    expect(loadRendered(text, 'o', 'kustomize').map((m) => [m.object.kind, m.line])).toEqual([
      ['B', 6],
      ['C', 10],
    ]);
  });

  it('reads aliases, and refuses those that expand into a bomb', () => {
    const shared = 'kind: A\nlabels: &l {app: web}\nselector: *l\n';
    expect(loadRendered(shared, 'o', 'kustomize')[0]?.object).toEqual({
      kind: 'A',
      labels: { app: 'web' },
      selector: { app: 'web' },
    });
    // 90 aliases, within the count, that expand into 10^9 strings when the object is sent
    const levels = ['kind: B', 'a0: &a0 "lol"'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    expect(() => loadRendered(`${levels.join('\n')}\n`, 'o', 'kustomize')).toThrow(
      /o \(kustomize output\):1: its aliases expand into more than 100000 values/,
    );
  });

  it('refuses an output with no objects', () => {
    expect(() => loadRendered('---\n', 'overlays/prod', 'kustomize')).toThrow(
      "input 'manifests': kustomize rendered no objects from 'overlays/prod'",
    );
  });

  it('knows an overlay and a chart by their files', () => {
    const dir = (file?: string) => {
      const d = mkdtempSync(join(tmpdir(), 'renderer-'));
      if (file) writeFileSync(join(d, file), '');
      return d;
    };
    expect(rendererOf(dir('kustomization.yaml'))).toBe('kustomize');
    expect(rendererOf(dir('kustomization.yml'))).toBe('kustomize');
    expect(rendererOf(dir('Chart.yaml'))).toBe('helm');
    expect(rendererOf(dir())).toBeUndefined();
  });
});
