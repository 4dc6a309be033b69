import { gitShaAnnotation, previewNamespace, prLabel, runUrlAnnotation } from './names.js';
import type { Settings } from './settings.js';

/** What to build and push: the buildx command line is made from it (docker/buildx.ts). */
export interface BuildSpec {
  context: string;
  dockerfile: string;
  platforms: string[];
  /** full references, registry/name:tag */
  tags: string[];
  buildArgs: Record<string, string>;
  /** build secret id -> file path */
  secretFiles: Record<string, string>;
  labels: Record<string, string>;
  cacheFrom: string[];
  cacheTo: string[];
}

/** What one environment's manifests become (kube/manifests/render.ts). */
export interface RenderTarget {
  appName: string;
  /** app.kubernetes.io/instance: the app for production, app-pr-N for a preview */
  instance: string;
  namespace: string;
  /** the image field value in the manifests that stands for the built image, e.g. 'archetype' */
  imagePlaceholder: string;
  /** the pushed image, registry/name@sha256:... */
  image: string;
  /** short git sha: app.kubernetes.io/version */
  version: string;
  /** Ingress host and HTTPRoute hostnames; empty keeps the manifests' */
  host: string;
  /** input gateway: the Gateway every HTTPRoute's Gateway parentRefs point at; absent keeps the manifests' */
  gateway?: { namespace: string; name: string };
  /** set on every Deployment (previews run fewer) */
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** kubernetes.io/change-cause, shown in the rollout history */
  changeCause: string;
}

// What a deploy will build, tag, and apply where: computed from settings and the event, no side effects.

export interface RunInfo {
  sha: string;
  /** true for a push to the default branch: the image also gets 'latest' */
  defaultBranch: boolean;
  /** https://github.com/owner/repo, for the image's source label */
  repositoryUrl: string;
  /** link to the workflow run, recorded on every object */
  runUrl: string;
  /** GitHub's cache service is reachable (type=gha) */
  ghaCache: boolean;
  /** anyone may read the run's log and summary (the event does not say the repository is private) */
  publicRepository: boolean;
  now: Date;
}

export interface DeployPlan {
  /** 'production' or 'pr-<n>': the GitHub environment and the name people read */
  environment: string;
  namespace: string;
  /** registry/name, without tag: the image name for production, its preview repository for a preview */
  repository: string;
  build: BuildSpec;
  /** the environment's moving tags (latest, pr-N): set only once the rollout and the smoke check passed */
  movingTags: string[];
  render: Omit<RenderTarget, 'image'>;
  /** why the pods' log lines stay out of the job log and summary ('' when they are shown) */
  podLogsWithheld: string;
}

/**
 * Why a preview's pod logs stay out of the job log and summary, if they do: a pull request writes what its
 * pods log, and in a public repository anyone reads the run. Reasons and exit codes are still reported.
 */
export function withheldPodLogs(
  settings: Pick<Settings, 'showPreviewLogs'>,
  run: Pick<RunInfo, 'publicRepository'>,
  namespace: string,
): string {
  if (settings.showPreviewLogs || !run.publicRepository) return '';
  return `withheld: a pull request's pod in a public repository (kubectl logs -n ${namespace} <pod> reads it; input show-preview-logs: true shows it here)`;
}

export function planDeploy(settings: Settings, run: RunInfo, pr?: number): DeployPlan {
  if (!/^[0-9a-f]{7,64}$/.test(run.sha)) throw new Error(`the commit sha '${run.sha}' is not a git sha`);
  const preview = pr !== undefined;
  // a pull request pushes into a repository of its own, which production never reads: a preview cannot
  // pre-push the image a later commit on main would deploy
  const repository = `${settings.registry.host}/${preview ? settings.image.previewName : settings.image.name}`;
  const short = run.sha.slice(0, 7);
  const movingTags = preview ? [`pr-${pr}`] : run.defaultBranch ? ['latest'] : [];

  const host = preview ? (settings.previewDomain ? `pr-${pr}.${settings.previewDomain}` : '') : settings.host;
  const instance = preview ? previewNamespace(settings.appName, pr) : settings.appName;
  const labels: Record<string, string> = {};
  if (preview) labels[prLabel] = String(pr);

  return {
    environment: preview ? `pr-${pr}` : 'production',
    namespace: preview ? previewNamespace(settings.appName, pr) : settings.namespace,
    repository,
    build: {
      context: settings.image.context,
      dockerfile: settings.image.dockerfile,
      platforms: settings.image.platforms,
      tags: [`${repository}:${run.sha}`],
      buildArgs: { ...settings.image.buildArgs, REVISION: run.sha },
      secretFiles: settings.image.secretFiles,
      labels: {
        'org.opencontainers.image.revision': run.sha,
        'org.opencontainers.image.source': run.repositoryUrl,
        'org.opencontainers.image.created': run.now.toISOString(),
      },
      ...cacheArgs(settings, run, repository),
    },
    movingTags: movingTags.map((t) => `${repository}:${t}`),
    podLogsWithheld: preview ? withheldPodLogs(settings, run, previewNamespace(settings.appName, pr)) : '',
    render: {
      appName: settings.appName,
      instance,
      namespace: preview ? previewNamespace(settings.appName, pr) : settings.namespace,
      imagePlaceholder: settings.image.name.split('/').pop() ?? settings.image.name,
      version: short,
      host,
      ...(settings.gateway ? { gateway: settings.gateway } : {}),
      replicas: preview ? settings.previewReplicas : undefined,
      labels,
      annotations: {
        [gitShaAnnotation]: run.sha,
        ...(run.runUrl ? { [runUrlAnnotation]: run.runUrl } : {}),
      },
      changeCause: `${short} deployed${run.runUrl ? ` by ${run.runUrl}` : ''}`,
    },
  };
}

function cacheArgs(
  settings: Settings,
  run: RunInfo,
  repository: string,
): Pick<BuildSpec, 'cacheFrom' | 'cacheTo'> {
  const mode = settings.image.cache === 'auto' ? (run.ghaCache ? 'gha' : 'none') : settings.image.cache;
  switch (mode) {
    case 'gha': {
      // previews get a scope of their own too, so a pull request cannot seed production's build cache
      const scope = repository.slice(settings.registry.host.length + 1);
      return {
        cacheFrom: [`type=gha,scope=${scope}`],
        cacheTo: [`type=gha,mode=max,scope=${scope}`],
      };
    }
    case 'registry':
      return {
        cacheFrom: [`type=registry,ref=${repository}:buildcache`],
        cacheTo: [`type=registry,ref=${repository}:buildcache,mode=max`],
      };
    default:
      return { cacheFrom: [], cacheTo: [] };
  }
}
