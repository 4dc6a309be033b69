import { type AzureSettings, readAzure } from './azure.js';
import { type ClusterTarget, readCluster } from './cluster.js';
import { type ImageSettings, readImage } from './image.js';
import { actionsInputs, type InputReader, Inputs } from './inputs.js';
import { type Mode, modes } from './mode.js';
import { type RegistryTarget, readRegistry } from './registry.js';
import { type RolloutSettings, readRollout } from './rollout.js';
import { readStrategy, type Strategy } from './strategy.js';
import { readAppName, readTarget, type TargetSettings } from './target.js';

// Every input is read here, once, into a typed object; the rest of the action never calls core.getInput.
// One reader per concern (this folder's files); getSettings composes them in the order the inputs are
// named in an error, and throws once with every bad input.

export type { AzureSettings } from './azure.js';
export { aksNames, type ClusterTarget } from './cluster.js';
export { type CacheMode, cacheModes, type ImageSettings } from './image.js';
export { actionsInputs, type InputReader } from './inputs.js';
export { getMode, getRouting, type Mode, modes } from './mode.js';
export type { RegistryTarget } from './registry.js';
export {
  type Environment,
  type FailureGrace,
  parseFailureGrace,
  type RollbackTarget,
  type RolloutSettings,
} from './rollout.js';
export type { CanarySettings, Strategy } from './strategy.js';
export type { TargetSettings } from './target.js';

export interface Settings extends TargetSettings, RolloutSettings {
  mode: Mode;
  appName: string;
  registry: RegistryTarget;
  image: ImageSettings;
  azure: AzureSettings;
  cluster: ClusterTarget;
  /** a preview on a cluster that would not enforce its NetworkPolicy fails (false: a warning) */
  requireNetworkPolicy: boolean;
  previewTtlMs: number;
  rolloutTimeoutMs: number;
  rollbackOnFailure: boolean;
  /** input strategy: how production takes a new revision (kube/canary/ for canary) */
  strategy: Strategy;
  forceConflicts: boolean;
  waitForIngress: boolean;
  smokeCheck: boolean;
  /** the smoke GET again through each Ingress that routes it (input smoke-front-door) */
  smokeFrontDoor: boolean;
  /** a pull request's pod logs in the job log and summary of a public repository too */
  showPreviewLogs: boolean;
  /** a preview writes its outcome here; mode report reads it (input report-file) */
  reportFile: string;
  githubToken: string;
}

/** options.cluster false: the job reaches no cluster (mode report), so none need be given */
export function getSettings(
  reader: InputReader = actionsInputs,
  options: { cluster?: boolean } = {},
): Settings {
  const inputs = new Inputs(reader);
  const mode = inputs.oneOf('mode', modes);
  const appName = readAppName(inputs);
  const registry = readRegistry(inputs);
  const image = readImage(inputs, appName);
  const azure = readAzure(inputs, registry);
  const cluster = readCluster(inputs, options.cluster !== false);
  const target = readTarget(inputs);
  const rollout = readRollout(inputs);
  const settings: Settings = {
    mode,
    appName,
    registry,
    image: { ...image, rebuild: inputs.bool('rebuild') },
    azure,
    cluster,
    ...target,
    requireNetworkPolicy: inputs.bool('require-network-policy'),
    previewTtlMs: inputs.duration('preview-ttl'),
    rolloutTimeoutMs: inputs.duration('rollout-timeout'),
    rollbackOnFailure: inputs.bool('rollback-on-failure'),
    strategy: readStrategy(inputs),
    ...rollout,
    forceConflicts: inputs.bool('force-conflicts'),
    waitForIngress: inputs.bool('wait-for-ingress'),
    smokeCheck: inputs.bool('smoke-check'),
    smokeFrontDoor: inputs.bool('smoke-front-door'),
    showPreviewLogs: inputs.bool('show-preview-logs'),
    reportFile: inputs.text('report-file'),
    githubToken: inputs.raw('github-token'),
  };
  inputs.throwIfInvalid();
  return settings;
}
