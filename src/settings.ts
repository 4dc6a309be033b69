import * as core from '@actions/core';
import { type AzureCloud, type AzureEndpoints, azureCloudNames, azureClouds } from './azure/cloud.js';
import type { Routing } from './event.js';
import { parseDuration } from './util/duration.js';
import { maskSecret } from './util/secrets.js';

// Every input is read here, once, into a typed object; the rest of the action never calls core.getInput.

export const modes = ['auto', 'deploy', 'preview', 'teardown', 'sweep', 'rollback', 'report'] as const;
export type Mode = (typeof modes)[number];
export const cacheModes = ['auto', 'gha', 'registry', 'none'] as const;
export type CacheMode = (typeof cacheModes)[number];

export type RegistryTarget =
  | { kind: 'acr'; host: string }
  | { kind: 'basic'; host: string; username: string; password: string };

export type ClusterTarget =
  | { kind: 'kubeconfig'; kubeconfig: string }
  | {
      kind: 'aks';
      subscriptionId: string;
      resourceGroup: string;
      clusterName: string;
      admin: boolean;
      /** ask ARM for the kubeconfig with the cluster's public FQDN (a private cluster's way in from outside) */
      publicFqdn: boolean;
    };

/** The AKS cluster's names, for the az commands that messages suggest; none for another cluster. */
export function aksNames(settings: { cluster: ClusterTarget }): {
  aks?: { resourceGroup: string; clusterName: string };
} {
  const c = settings.cluster;
  return c.kind === 'aks' ? { aks: { resourceGroup: c.resourceGroup, clusterName: c.clusterName } } : {};
}

export type Environment = { kind: 'production' } | { kind: 'preview'; pr: number };

export type RollbackTarget =
  | { kind: 'previous' }
  | { kind: 'revision'; revision: number }
  | { kind: 'image'; ref: string };

export interface Settings {
  mode: Mode;
  appName: string;
  registry: RegistryTarget;
  image: {
    name: string;
    /** repository of preview images (input preview-image-name, default <name>-preview) */
    previewName: string;
    context: string;
    dockerfile: string;
    platforms: string[];
    buildArgs: Record<string, string>;
    secretFiles: Record<string, string>;
    cache: CacheMode;
    rebuild: boolean;
  };
  azure: {
    clientId: string;
    tenantId: string;
    clientSecret: string;
    cloud: AzureCloud;
    /** azure-cloud's endpoints, or the inputs that override them */
    endpoints: AzureEndpoints;
    /** audience of the GitHub OIDC token for workload identity federation (input, or the cloud's) */
    oidcAudience: string;
  };
  cluster: ClusterTarget;
  manifests: string;
  namespace: string;
  host: string;
  previewDomain: string;
  /** namespace of the ingress controller: the one source of outside traffic a preview's NetworkPolicy admits */
  ingressNamespace: string;
  previewReplicas: number;
  /** at most this many preview namespaces of the app at once */
  maxPreviews: number;
  /** a preview on a cluster that would not enforce its NetworkPolicy fails (false: a warning) */
  requireNetworkPolicy: boolean;
  previewTtlMs: number;
  rolloutTimeoutMs: number;
  rollbackOnFailure: boolean;
  environment: Environment;
  rollbackTarget: RollbackTarget;
  forceConflicts: boolean;
  waitForIngress: boolean;
  smokeCheck: boolean;
  /** a pull request's pod logs in the job log and summary of a public repository too */
  showPreviewLogs: boolean;
  /** a preview writes its outcome here; mode report reads it (input report-file) */
  reportFile: string;
  /** input smoke-path: what the smoke check GETs */
  smokePath: string;
  preflight: 'error' | 'warn';
  /** how long a failing pod of a rollout is given before the rollout fails (trackRollout's options) */
  failureGrace: FailureGrace;
  githubToken: string;
}

/** Reads inputs the way the runner passes them (INPUT_* variables). */
export type InputReader = {
  get(name: string): string;
  getBoolean(name: string): boolean;
};

export const actionsInputs: InputReader = {
  get: (name) => core.getInput(name),
  getBoolean: (name) => core.getBooleanInput(name),
};

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const registryHost =
  /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*)(:\d{1,5})?$/;
const repository = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const platform = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const imageTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const buildArgKey = /^[A-Za-z_][A-Za-z0-9_]*$/;
const secretId = /^[A-Za-z0-9_.-]+$/;
const acrSuffix = /\.azurecr\.(io|cn|us)$/i;

// Leaves room for "-pr-<number>" in preview namespaces (63 characters at most).
const maxAppName = 40;

/** The mode alone: the job is routed before the other inputs are checked (a fork's run has no variables). */
export function getMode(inputs: InputReader = actionsInputs): Mode {
  const value = inputs.get('mode').trim();
  if (!(modes as readonly string[]).includes(value))
    throw new Error(`Invalid inputs:\n- input 'mode': '${value}' is not one of ${modes.join(', ')}`);
  return value as Mode;
}

const refGlob = /^[A-Za-z0-9._/*-]+$/;

/** The inputs that route the run, checked alone and first, like the mode. */
export function getRouting(inputs: InputReader = actionsInputs): Routing {
  const errors: string[] = [];
  const globs = (name: string): string[] => {
    const values = inputs
      .get(name)
      .split(/[\n,]/)
      .map((v) => v.trim())
      .filter(Boolean);
    for (const v of values)
      if (!refGlob.test(v) || v.startsWith('refs/'))
        errors.push(
          `input '${name}': '${v}' is not a ${name === 'deploy-tags' ? 'tag' : 'branch'} name or glob (letters, digits, . _ - / and *, without refs/...), e.g. ${name === 'deploy-tags' ? 'v*' : 'release/*'}`,
        );
    return values;
  };
  let mode: Mode = 'auto';
  try {
    mode = getMode(inputs);
  } catch (error) {
    errors.push((error instanceof Error ? error.message : String(error)).replace(/^Invalid inputs:\n- /, ''));
  }
  const routing = { mode, deployBranches: globs('deploy-branches'), deployTags: globs('deploy-tags') };
  if (errors.length > 0) throw new Error(`Invalid inputs:\n- ${errors.join('\n- ')}`);
  return routing;
}

/** options.cluster false: the job reaches no cluster (mode report), so none need be given */
export function getSettings(
  inputs: InputReader = actionsInputs,
  options: { cluster?: boolean } = {},
): Settings {
  const errors: string[] = [];
  const fail = (name: string, message: string) => errors.push(`input '${name}': ${message}`);
  const text = (name: string) => inputs.get(name).trim();
  const bool = (name: string): boolean => {
    try {
      return inputs.getBoolean(name);
    } catch {
      fail(name, `'${inputs.get(name)}' is not a boolean; use true or false`);
      return false;
    }
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T => {
    const value = text(name) as T;
    if (!allowed.includes(value)) fail(name, `'${value}' is not one of ${allowed.join(', ')}`);
    return value;
  };
  const duration = (name: string): number => {
    const value = text(name);
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) fail(name, `'${value}' is not a duration; use e.g. 90s, 5m, 2h or 7d`);
    return ms ?? 0;
  };

  const mode = oneOf('mode', modes);

  const appName = text('app-name');
  if (!dnsLabel.test(appName) || appName.length > maxAppName)
    fail(
      'app-name',
      `'${appName}' must be lowercase letters, digits and '-', start and end alphanumeric, at most ${maxAppName} characters`,
    );

  const host = text('registry');
  let registry: RegistryTarget = { kind: 'basic', host, username: '', password: '' };
  if (!host) fail('registry', 'is required, e.g. myregistry.azurecr.io or 127.0.0.1:5000');
  else if (!registryHost.test(host) || host.includes('/'))
    fail('registry', `'${host}' is not a registry host[:port]; give the host only, without a scheme or path`);
  const username = text('registry-username');
  const password = inputs.get('registry-password');
  if (password) maskSecret(password);
  if (acrSuffix.test(host) && !username) registry = { kind: 'acr', host: host.toLowerCase() };
  else {
    if (Boolean(username) !== Boolean(password))
      fail(
        username ? 'registry-password' : 'registry-username',
        'registry-username and registry-password go together',
      );
    registry = { kind: 'basic', host, username, password };
  }

  const imageName = text('image-name') || appName;
  if (!repository.test(imageName))
    fail(
      'image-name',
      `'${imageName}' is not a valid repository name (lowercase, digits, separators . _ - /)`,
    );
  const previewImageName = text('preview-image-name') || `${imageName}-preview`;
  if (!repository.test(previewImageName) || previewImageName === imageName)
    fail(
      'preview-image-name',
      `'${previewImageName}' must be a valid repository name other than image-name '${imageName}': production never reads preview images`,
    );
  const context = text('context') || '.';
  const dockerfile = text('dockerfile') || `${context.replace(/\/+$/, '')}/Dockerfile`;
  const platforms = text('platforms')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (platforms.length === 0) fail('platforms', 'is empty; use e.g. linux/amd64');
  for (const p of platforms)
    if (!platform.test(p)) fail('platforms', `'${p}' is not os/arch[/variant], e.g. linux/amd64`);

  const keyValues = (name: string, key: RegExp, shape: string): Record<string, string> => {
    const values: Record<string, string> = {};
    for (const [i, raw] of inputs.get(name).split('\n').entries()) {
      const line = raw.trim();
      if (!line) continue;
      const eq = line.indexOf('=');
      if (eq <= 0 || !key.test(line.slice(0, eq)) || eq === line.length - 1)
        fail(name, `line ${i + 1} '${line}' is not ${shape}`);
      else values[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return values;
  };
  const buildArgs = keyValues('build-args', buildArgKey, 'KEY=VALUE');
  const secretFiles = keyValues('build-secret-files', secretId, 'id=path');
  const cache = oneOf('cache', cacheModes);

  const cloud = oneOf('azure-cloud', azureCloudNames);
  const endpoint = (name: string, fallback: string): string => {
    const value = text(name);
    if (!value) return fallback;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'https:' || url.search || url.hash)
      fail(name, `'${value}' is not an https URL like https://login.microsoftonline.com`);
    return value.replace(/\/+$/, '');
  };
  const known = azureClouds[cloud] ?? azureClouds.AzureCloud;
  const azure = {
    clientId: text('azure-client-id'),
    tenantId: text('azure-tenant-id'),
    clientSecret: inputs.get('azure-client-secret'),
    cloud,
    endpoints: {
      authorityHost: endpoint('azure-authority-host', known.authorityHost),
      armEndpoint: endpoint('azure-resource-manager-endpoint', known.armEndpoint),
    },
    oidcAudience: text('azure-oidc-audience') || known.oidcAudience,
  };
  if (registry.kind === 'acr') {
    const cloudOfRegistry = azureCloudNames.find((name) =>
      registry.host.endsWith(azureClouds[name].acrSuffix),
    );
    if (cloudOfRegistry && cloudOfRegistry !== cloud)
      fail(
        'registry',
        `'${registry.host}' is a registry of ${cloudOfRegistry} (${azureClouds[cloudOfRegistry].acrSuffix}) but input 'azure-cloud' is ${cloud}; set azure-cloud to ${cloudOfRegistry}`,
      );
  }
  if (azure.clientSecret) maskSecret(azure.clientSecret);

  const kubeconfig = inputs.get('kubeconfig');
  const aks = {
    subscriptionId: text('azure-subscription-id'),
    resourceGroup: text('resource-group'),
    clusterName: text('cluster-name'),
  };
  const admin = bool('admin-credentials');
  let cluster: ClusterTarget = { kind: 'kubeconfig', kubeconfig };
  if (kubeconfig.trim()) {
    if (aks.resourceGroup || aks.clusterName)
      fail(
        'kubeconfig',
        'is set together with resource-group/cluster-name; give one way to reach the cluster',
      );
  } else if (aks.resourceGroup || aks.clusterName || aks.subscriptionId) {
    for (const [name, value] of Object.entries({
      'azure-subscription-id': aks.subscriptionId,
      'resource-group': aks.resourceGroup,
      'cluster-name': aks.clusterName,
    }))
      if (!value) fail(name, 'is required for AKS (or give a kubeconfig instead)');
    cluster = { kind: 'aks', ...aks, admin, publicFqdn: bool('aks-public-fqdn') };
  } else if (options.cluster !== false) {
    fail(
      'kubeconfig',
      'no cluster given; set kubeconfig, or azure-subscription-id + resource-group + cluster-name',
    );
  }

  const manifests = text('manifests');
  if (!manifests) fail('manifests', 'is required, e.g. k8s');
  const namespace = text('namespace');
  if (!dnsLabel.test(namespace) || namespace.length > 63)
    fail('namespace', `'${namespace}' is not a DNS-1123 label (lowercase letters, digits, '-', at most 63)`);
  const ingressHost = text('host');
  if (ingressHost && !dnsSubdomain.test(ingressHost))
    fail('host', `'${ingressHost}' is not a lowercase DNS name like archetype.example.com`);
  const previewDomain = text('preview-domain');
  if (previewDomain && !dnsSubdomain.test(previewDomain))
    fail('preview-domain', `'${previewDomain}' is not a lowercase DNS name like preview.example.com`);

  const smokePath = text('smoke-path') || '/';
  if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(smokePath))
    fail('smoke-path', `'${smokePath}' is not a URL path: start it with / and use no spaces, e.g. /healthz`);
  const ingressNamespace = text('ingress-namespace');
  if (!dnsLabel.test(ingressNamespace) || ingressNamespace.length > 63)
    fail('ingress-namespace', `'${ingressNamespace}' is not a namespace name, e.g. app-routing-system`);

  const replicasText = text('preview-replicas');
  const previewReplicas = Number(replicasText);
  if (!/^\d+$/.test(replicasText) || previewReplicas < 1 || previewReplicas > 10)
    fail('preview-replicas', `'${replicasText}' must be a whole number from 1 to 10`);
  const maxPreviewsText = text('max-previews');
  const maxPreviews = Number(maxPreviewsText);
  if (!/^\d+$/.test(maxPreviewsText) || maxPreviews < 1 || maxPreviews > 1000)
    fail('max-previews', `'${maxPreviewsText}' must be a whole number from 1 to 1000`);

  const environment = parseEnvironment(text('environment'), fail);
  const rollbackTarget = parseRollbackTarget(text('rollback-target'), fail);
  const preflight = oneOf('preflight', ['error', 'warn'] as const);
  const grace = parseFailureGrace(text('failure-grace'));
  if (typeof grace === 'string') fail('failure-grace', grace);

  const settings: Settings = {
    mode,
    appName,
    registry,
    image: {
      name: imageName,
      previewName: previewImageName,
      context,
      dockerfile,
      platforms,
      buildArgs,
      secretFiles,
      cache,
      rebuild: bool('rebuild'),
    },
    azure,
    cluster,
    manifests,
    namespace,
    host: ingressHost,
    previewDomain,
    ingressNamespace,
    previewReplicas,
    maxPreviews,
    requireNetworkPolicy: bool('require-network-policy'),
    previewTtlMs: duration('preview-ttl'),
    rolloutTimeoutMs: duration('rollout-timeout'),
    rollbackOnFailure: bool('rollback-on-failure'),
    environment,
    rollbackTarget,
    forceConflicts: bool('force-conflicts'),
    waitForIngress: bool('wait-for-ingress'),
    smokeCheck: bool('smoke-check'),
    showPreviewLogs: bool('show-preview-logs'),
    reportFile: text('report-file'),
    smokePath,
    preflight,
    failureGrace: typeof grace === 'string' ? defaultFailureGrace : grace,
    githubToken: inputs.get('github-token'),
  };
  if (errors.length > 0) throw new Error(`Invalid inputs:\n- ${errors.join('\n- ')}`);
  return settings;
}

export interface FailureGrace {
  graceMs: number;
  graceObservations: number;
  crashLoopRestarts: number;
}

const defaultFailureGrace: FailureGrace = { graceMs: 10_000, graceObservations: 3, crashLoopRestarts: 3 };

/**
 * 'failure-grace': a duration a failure reason must hold, optionally 'N observations' (fail sooner once seen
 * N times) and 'N restarts' (CrashLoopBackOff fails from N restarts), comma-separated. What is not given
 * does not cut the grace short: '30s' waits 30 s however often the pod is seen (restarts default to 3).
 * Returns the problem as a string when the text is none of these.
 */
export function parseFailureGrace(value: string): FailureGrace | string {
  const grace: FailureGrace = {
    graceMs: Number.POSITIVE_INFINITY,
    graceObservations: Number.POSITIVE_INFINITY,
    crashLoopRestarts: defaultFailureGrace.crashLoopRestarts,
  };
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return `is empty; use e.g. '30s' or '10s, 3 observations, 3 restarts'`;
  for (const part of parts) {
    const count = /^(\d{1,4})\s*(observations?|restarts?)$/.exec(part);
    if (count) {
      const n = Number(count[1]);
      if (n < 1) return `'${part}': the number must be at least 1`;
      if (count[2]?.startsWith('observation')) grace.graceObservations = n;
      else grace.crashLoopRestarts = n;
      continue;
    }
    const ms = parseDuration(part);
    if (ms === undefined || ms <= 0)
      return `'${part}' is not a duration, 'N observations' or 'N restarts'; use e.g. '30s' or '10s, 3 observations, 3 restarts'`;
    grace.graceMs = ms;
  }
  if (!Number.isFinite(grace.graceMs) && !Number.isFinite(grace.graceObservations))
    return `'${value}' gives no duration nor observations, so a failing pod would never fail the rollout early; add e.g. '30s'`;
  return grace;
}

function parseEnvironment(value: string, fail: (name: string, message: string) => void): Environment {
  if (value === 'production') return { kind: 'production' };
  const match = /^(?:pr-|#)?(\d{1,9})$/.exec(value);
  const pr = Number(match?.[1]);
  if (!match || pr < 1) {
    fail('environment', `'${value}' is neither production nor a pull request number (e.g. 7 or pr-7)`);
    return { kind: 'production' };
  }
  return { kind: 'preview', pr };
}

function parseRollbackTarget(value: string, fail: (name: string, message: string) => void): RollbackTarget {
  if (value === 'previous') return { kind: 'previous' };
  if (/^\d{1,9}$/.test(value) && Number(value) > 0) return { kind: 'revision', revision: Number(value) };
  if (imageTag.test(value)) return { kind: 'image', ref: value };
  fail('rollback-target', `'${value}' is not previous, a revision number, or an image tag / git sha`);
  return { kind: 'previous' };
}
