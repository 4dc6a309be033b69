import type { KubernetesObject } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import { type Cluster, describeObject } from '../client/client.js';
import { readNamespace } from '../client/namespace.js';
import { sameObject } from '../manifests/json.js';
import { type Conflict, conflictsOf, explain, isImmutable, kubectlManagers, valueAt } from './conflicts.js';
import { ssa } from './ssa.js';
import type { ApplyAction, ApplyOptions, Planned, TakenOver } from './types.js';

// One object's server-side dry-run: what applying it would do (created, configured, unchanged, or a Job
// replaced), with the fields of our own managers and kubectl's taken over, and the Pod Security warnings
// that make it fail.

/**
 * The dry-run of one object of the set, against the live one. Fields in conflict that our own managers
 * (`own`) or kubectl last wrote are taken (noted in `reclaimed` and `takenOver`); any other failure throws,
 * explained.
 */
export async function dryRun(
  cluster: Cluster,
  input: KubernetesObject,
  options: ApplyOptions,
  own: Set<string>,
  reclaimed: string[],
  takenOver: TakenOver[],
): Promise<Planned> {
  const { apiVersion, kind } = input;
  const name = input.metadata?.name;
  if (!apiVersion || !kind || !name)
    throw new Error(`${describeObject(input)}: apiVersion, kind and metadata.name are required`);
  const info = await cluster.resource(apiVersion, kind);
  if (!info)
    throw new Error(
      `${kind}/${name}: ${kind} in ${apiVersion} is not served by this cluster; check apiVersion`,
    );
  let object = input;
  if (info.namespaced) {
    const ns = input.metadata?.namespace;
    if (ns && ns !== options.namespace)
      throw new Error(
        `${kind}/${name}: metadata.namespace is '${ns}' but this deploy targets namespace '${options.namespace}'`,
      );
    if (!ns) object = { ...input, metadata: { ...input.metadata, namespace: options.namespace } };
  }
  const path = await cluster.pathOf(apiVersion, kind, object.metadata?.namespace, name);
  const known = options.dryRuns?.get(input);
  if (known) {
    await checkPodSecurity(cluster, known.warnings, kind, name, options);
    return { object, path, action: actionOf(known.live, known.result), force: options.force };
  }
  let force = options.force;
  const warnings: string[] = [];
  // the live object and the dry-run are independent reads: asked at once
  const [read, dry] = await Promise.allSettled([
    cluster.get<KubernetesObject>(path),
    ssa(cluster, path, object, options.fieldManager, force, true, warnings),
  ]);
  if (read.status === 'rejected')
    throw new Error(`${kind}/${name}: cannot read the live object: ${errorText(read.reason)}`, {
      cause: read.reason,
    });
  const live = read.value;
  let result: KubernetesObject;
  if (dry.status === 'fulfilled') result = dry.value;
  else {
    const error: unknown = dry.reason;
    const conflicts = conflictsOf(error);
    if (kind === 'Job' && live && isImmutable(error)) {
      // a Job runs its template once: a new template is a new run, so the Job is replaced
      await dryRunCreate(cluster, object).catch((e) => {
        throw new Error(explain(e, object, options.namespace), { cause: e });
      });
      return { object, path, action: 'replaced', force };
    }
    const ours = (c: Conflict) => own.has(c.manager) || kubectlManagers.has(c.manager);
    if (!force && conflicts.length > 0 && conflicts.every(ours)) {
      // fields last written by our own rollback, or by hand with kubectl: ours to take
      force = true;
      result = await ssa(cluster, path, object, options.fieldManager, true, true, warnings).catch((e) => {
        throw new Error(explain(e, object, options.namespace, live), { cause: e });
      });
      for (const c of conflicts)
        if (own.has(c.manager)) reclaimed.push(`${kind}/${name} ${c.field} (${c.owner})`);
        else
          takenOver.push({
            kind,
            name,
            field: c.field,
            manager: c.manager,
            was: valueAt(live, c.field.replace(/^\./, '')),
          });
    } else {
      throw new Error(explain(error, object, options.namespace, live), { cause: error });
    }
  }
  await checkPodSecurity(cluster, warnings, kind, name, options);
  return { object, path, action: actionOf(live, result), force };
}

/** What applying does to the live object (none: a create), judged by the dry-run's result. */
function actionOf(live: KubernetesObject | undefined, result: KubernetesObject): ApplyAction {
  return !live ? 'created' : sameObject(live, result) ? 'unchanged' : 'configured';
}

/**
 * A dry-run whose answer warns that pods would violate Pod Security fails the set where options say so
 * (previews), or where the namespace enforces the level warned of (production's, rbac/production.yaml): its
 * pods would be refused, and the rollout would only wait for its deadline.
 */
async function checkPodSecurity(
  cluster: Cluster,
  warnings: string[],
  kind: string,
  name: string,
  options: ApplyOptions,
): Promise<void> {
  const podSecurity = warnings.filter((w) => /would violate PodSecurity/.test(w));
  if (podSecurity.length === 0) return;
  let enforced = options.podSecurityFails === true;
  if (!enforced) {
    const level = /would violate PodSecurity "([a-z]+):/.exec(podSecurity[0] ?? '')?.[1];
    const namespace = await readNamespace(cluster, options.namespace);
    enforced = level !== undefined && namespace?.metadata?.labels?.[enforceLabel] === level;
  }
  if (enforced)
    throw new Error(
      `${kind}/${name}: its pods would be refused by namespace '${options.namespace}', which enforces the restricted Pod Security Standard: ${podSecurity.join('; ')}; give the pod template the securityContext of k8s/deployment.yaml (docs/github-setup.md)`,
    );
}

const enforceLabel = 'pod-security.kubernetes.io/enforce';

/** The create a replacement will make, checked under a generated name (the live object holds the real one). */
async function dryRunCreate(cluster: Cluster, object: KubernetesObject): Promise<void> {
  const { name, resourceVersion: _rv, ...metadata } = object.metadata ?? {};
  const collection = await cluster.pathOf(object.apiVersion ?? '', object.kind ?? '', metadata.namespace);
  await cluster.request('POST', collection, {
    query: { fieldValidation: 'Strict', dryRun: 'All' },
    body: { ...object, metadata: { ...metadata, generateName: `${name}-` } },
  });
}
