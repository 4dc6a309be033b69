// Every name the action writes to a cluster, in one place: its labels, annotations and field managers, and
// the names it derives (preview namespaces, the deploy lock, release Secrets, the deployer role). What other
// tools and earlier runs find by these names (prune, the sweep, rollbacks, `kubectl get -l`) depends on them
// staying the same.

/** app.kubernetes.io/managed-by, and the field manager of every server-side apply */
export const managedBy = 'archetype-deploy';
/** the prefix of the action's own labels and annotations */
export const annotationPrefix = 'archetype-deploy.github.io';

/** Kubernetes' recommended labels, set on every object applied */
export const nameLabel = 'app.kubernetes.io/name';
export const instanceLabel = 'app.kubernetes.io/instance';
export const versionLabel = 'app.kubernetes.io/version';
export const managedByLabel = 'app.kubernetes.io/managed-by';

/** a preview namespace's pull request */
export const prLabel = `${annotationPrefix}/pr`;
/** a preview namespace's app: what the admission policies of rbac/preview.yaml select its namespaces by */
export const previewOfLabel = `${annotationPrefix}/preview-of`;
/** a preview namespace's last deploy, for the sweep's TTL */
export const updatedAtAnnotation = `${annotationPrefix}/updated-at`;
/** the commit deployed, on the objects and the preview namespace */
export const gitShaAnnotation = `${annotationPrefix}/git-sha`;
/** the workflow run that deployed the objects */
export const runUrlAnnotation = `${annotationPrefix}/run-url`;
/** objects written, and Jobs run to completion, before the rest of the set */
export const preDeployAnnotation = `${annotationPrefix}/pre-deploy`;
/** on a Service, read: the path its smoke check GETs (overrides input smoke-path; implies an HTTP check) */
export const smokePathAnnotation = `${annotationPrefix}/smoke-path`;
/** on a Service, read: "false" skips its smoke check, "true" checks it when input smoke-check is false */
export const smokeCheckAnnotation = `${annotationPrefix}/smoke-check`;
/** kubectl's rollout history column */
export const changeCauseAnnotation = 'kubernetes.io/change-cause';

/** what the deploy lock (a Lease) notes of the last deploy, for ordering deploys */
export const lockNotes = {
  sha: `${annotationPrefix}/deployed-sha`,
  run: `${annotationPrefix}/deployed-run`,
  workflow: `${annotationPrefix}/deployed-workflow`,
  at: `${annotationPrefix}/deployed-at`,
} as const;

/** release records (Secrets) */
export const releaseLabels = {
  of: `${annotationPrefix}/release-of`,
  number: `${annotationPrefix}/release`,
  outcome: `${annotationPrefix}/outcome`,
} as const;
export const releaseAnnotations = {
  sha: gitShaAnnotation,
  image: `${annotationPrefix}/image`,
  created: `${annotationPrefix}/created`,
  note: `${annotationPrefix}/note`,
  /** a release whose canary waits for review: the weight, in percent, its canary holds */
  pausedAt: `${annotationPrefix}/canary-paused-at`,
} as const;
export const releaseSecretType = `${annotationPrefix}/release.v1`;

/** field managers besides managedBy: the Deployment rollback's, and the holder of replicas for an autoscaler */
export const rollbackFieldManager = `${managedBy}-rollback`;
export const handoverFieldManager = `${managedBy}-handover-to-hpa`;

/** A pull request's preview: its namespace, which is also its app.kubernetes.io/instance. */
export const previewNamespace = (appName: string, pr: number) => `${appName}-pr-${pr}`;
export const lockName = (instance: string) => `${instance}-deploy-lock`;
export const releaseSecretName = (instance: string, number: number) => `${instance}-release-v${number}`;
/** the ClusterRole of rbac/deployer.yaml, which the action binds in each preview namespace */
export const deployerRole = (appName: string) => `${appName}-deployer`;
/** the ClusterRole of rbac/preview.yaml for HTTPRoutes, which the action binds in a preview namespace that holds one */
export const previewRoutesRole = (appName: string) => `${appName}-preview-routes`;
export const defaultDenyPolicyName = `${managedBy}-preview-default-deny`;
export const previewQuotaName = `${managedBy}-preview-quota`;
export const previewLimitsName = `${managedBy}-preview-limits`;
/**
 * What isolates a preview: written with its namespace, before anything else, and deleted only with it. The
 * admission policies of rbac/preview.yaml name them too: no pod runs in a preview namespace without them.
 */
export const previewGuardNames: ReadonlySet<string> = new Set([
  defaultDenyPolicyName,
  previewQuotaName,
  previewLimitsName,
]);
/** a canary's Deployment and Service: the stable one's name with this suffix (kube/canary/) */
export const canaryName = (name: string) => `${name}-canary`;
/** the label a canary's objects carry, and the value its pods carry on the keys the stable Service selects */
export const canaryLabel = `${annotationPrefix}/track`;
export const canaryLabelValue = (value: string) => `${value.slice(0, 56)}-canary`;
/** the header the action's probes send through the route to reach one side of a canary: 'canary' or 'stable' */
export const canaryProbeHeader = 'x-archetype-deploy-canary';
