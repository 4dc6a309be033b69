// Bundled by bench/lib/render.mjs: the action's own code renders the manifests kubectl is given, so both
// tools apply the same objects (image by digest, namespace, labels, annotations).
import { loadManifests } from '../../src/kube/manifests/load.js';
import { render } from '../../src/kube/manifests/render.js';
import { planDeploy } from '../../src/plan.js';
import { getSettings } from '../../src/settings.js';

export function renderedObjects(inputs: Record<string, string>, sha: string, digest: string): unknown[] {
  const settings = getSettings({
    get: (name) => inputs[name] ?? '',
    getBoolean: (name) => inputs[name] === 'true',
  });
  const plan = planDeploy(settings, {
    sha,
    defaultBranch: true,
    publicRepository: true,
    repositoryUrl: 'https://github.com/local/archetype',
    runUrl: 'https://github.com/local/archetype/actions/runs/1',
    ghaCache: false,
    now: new Date(),
  });
  const manifests = loadManifests(settings.manifests);
  return render(manifests, { ...plan.render, image: `${plan.repository}@${digest}` }).map((m) => m.object);
}
