import {
  checkManifestsFolder,
  loadManifests,
  loadRendered,
  type Manifest,
  rendererOf,
} from '../kube/manifests/load.js';
import type { Settings } from '../settings.js';
import { runTool } from './tool.js';

// The manifests folder as the action applies it: plain YAML as it is, a Kustomize overlay through
// `kustomize build`, a Helm chart through `helm template` (the release named for the app, in the target
// namespace, with the values files of input helm-values). Rendered before anything is built, so that a
// bad overlay or chart costs no build.

export async function readManifests(
  inputs: Pick<Settings, 'manifests' | 'helmValues' | 'appName'>,
  namespace: string,
): Promise<Manifest[]> {
  const dir = inputs.manifests;
  checkManifestsFolder(dir);
  const renderer = rendererOf(dir);
  if (inputs.helmValues.length > 0 && renderer !== 'helm')
    throw new Error(
      `input 'helm-values': '${dir}' is not a Helm chart (it has no Chart.yaml); remove helm-values or point manifests at the chart`,
    );
  if (renderer === 'kustomize')
    return loadRendered(await runTool('kustomize', ['build', dir]), dir, renderer);
  if (renderer === 'helm') {
    const values = inputs.helmValues.flatMap((file) => ['--values', file]);
    const args = ['template', inputs.appName, dir, '--namespace', namespace, ...values];
    return loadRendered(await runTool('helm', args), dir, renderer);
  }
  return loadManifests(dir);
}
