import type { KubernetesObject } from '@kubernetes/client-node';
import { deployerRole, previewOfLabel, previewRoutesRole } from '../../names.js';
import { errorText } from '../../util/errors.js';
import { poll } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';
import { applyNamespace, listNamespaces, namespaceExists } from '../client/namespace.js';
import { mayI, selfSubjectReview } from '../client/self-review.js';

// A preview's namespace is made before anything else of the preview: labelled (restricted Pod Security),
// and, when the identity cannot deploy there by itself, with a RoleBinding that gives it the deployer
// ClusterRole there (and the preview-routes one, for a set with an HTTPRoute); then what isolates it
// (default-deny NetworkPolicy, ResourceQuota, LimitRange), which the admission policies require before any
// pod. That is how the preview identity of rbac/preview.yaml works: it may create namespaces named
// <app>-pr-<n> and bind itself in them, nothing else; ValidatingAdmissionPolicies hold it to those.

export interface PreviewAccess {
  /** the namespace did not exist and was made here */
  created: boolean;
  /** the identity bound here, when it needed RoleBindings */
  boundAs?: string;
  /** the ClusterRoles it bound itself to here */
  boundRoles?: string[];
}

const bindingWaitMs = 15_000;

interface Right {
  group: string;
  resource: string;
}
const deployRight: Right = { group: 'apps', resource: 'deployments' };
const routeRight: Right = { group: 'gateway.networking.k8s.io', resource: 'httproutes' };

export async function preparePreviewNamespace(
  cluster: Cluster,
  namespace: KubernetesObject,
  options: {
    appName: string;
    fieldManager: string;
    guards: KubernetesObject[];
    maxPreviews: number;
    /** the set holds an HTTPRoute: the preview-routes ClusterRole is bound too */
    routes?: boolean;
    waitMs?: number;
  },
): Promise<PreviewAccess> {
  const name = namespace.metadata?.name ?? '';
  // one being deleted throws (a teardown may still be running)
  const created = !(await namespaceExists(cluster, name));
  if (created) await checkPreviewCount(cluster, options.appName, options.maxPreviews);
  await applyNamespace(cluster, namespace, { fieldManager: options.fieldManager }).catch((error) => {
    throw new Error(
      `cannot ${created ? 'create' : 'label'} preview namespace '${name}': ${errorText(error)}; the identity needs the rights of rbac/preview.yaml`,
      { cause: error },
    );
  });
  const needed = [
    { role: deployerRole(options.appName), right: deployRight, file: 'rbac/deployer.yaml' },
    ...(options.routes
      ? [{ role: previewRoutesRole(options.appName), right: routeRight, file: 'rbac/preview.yaml' }]
      : []),
  ];
  let user: string | undefined;
  const boundRoles: string[] = [];
  for (const { role, right, file } of needed) {
    if (await may(cluster, name, right)) continue;
    user ??= await whoAmI(cluster);
    await bindRole(cluster, name, role, user, options.fieldManager);
    // RBAC takes effect when the API server's informer sees the binding: bounded wait
    const waitMs = options.waitMs ?? bindingWaitMs;
    if (
      !(await poll(async () => (await may(cluster, name, right)) || undefined, {
        timeoutMs: waitMs,
        intervalMs: 250,
      }))
    )
      throw new Error(
        `RoleBinding ${role} in namespace '${name}' does not let ${user} write ${right.resource} there after ${Math.round(waitMs / 1000)} s: does ClusterRole ${role} exist (${file})?`,
      );
    boundRoles.push(role);
  }
  await writeGuards(cluster, name, options);
  return { created, ...(user ? { boundAs: user, boundRoles } : {}) };
}

/** A RoleBinding of `user` to ClusterRole `role` in the preview namespace (rbac/preview.yaml lets it bind). */
async function bindRole(
  cluster: Cluster,
  namespace: string,
  role: string,
  user: string,
  fieldManager: string,
): Promise<void> {
  await cluster
    .request(
      'PATCH',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/rolebindings/${role}`,
      {
        query: { fieldManager, fieldValidation: 'Strict' },
        contentType: 'application/apply-patch+yaml',
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: role, namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      },
    )
    .catch((error) => {
      throw new Error(
        `${user} may not write in preview namespace '${namespace}' and cannot bind itself to ClusterRole ${role} there: ${errorText(error)}; apply rbac/deployer.yaml and rbac/preview.yaml (again, after an upgrade of the action) for this identity (docs/github-setup.md)`,
        { cause: error },
      );
    });
}

/** Server-side apply of the isolation objects, at once: no pod may start before all three exist. */
async function writeGuards(
  cluster: Cluster,
  namespace: string,
  options: { fieldManager: string; guards: KubernetesObject[] },
): Promise<void> {
  await Promise.all(
    options.guards.map(async (guard) => {
      const path = await cluster.pathOf(
        guard.apiVersion ?? '',
        guard.kind ?? '',
        namespace,
        guard.metadata?.name,
      );
      await cluster
        .request('PATCH', path, {
          query: { fieldManager: options.fieldManager, fieldValidation: 'Strict', force: true },
          contentType: 'application/apply-patch+yaml',
          body: guard,
        })
        .catch((error) => {
          throw new Error(
            `cannot write ${guard.kind}/${guard.metadata?.name} in preview namespace '${namespace}': ${errorText(error)}; the identity needs the rights of rbac/preview.yaml (applied again after an upgrade of the action)`,
            { cause: error },
          );
        });
    }),
  );
}

/** One preview more than input max-previews allows fails, naming the ones there are. */
async function checkPreviewCount(cluster: Cluster, appName: string, max: number): Promise<void> {
  const namespaces = await listNamespaces(cluster, `${previewOfLabel}=${appName}`);
  const live = namespaces.filter((n) => !n.metadata?.deletionTimestamp).map((n) => n.metadata?.name ?? '');
  if (live.length >= max)
    throw new Error(
      `${live.length} previews of ${appName} exist already (${live.sort().join(', ')}), as many as input 'max-previews' (${max}) allows: close a pull request, let the sweep remove stale previews (preview-ttl), or raise max-previews`,
    );
}

/** May this identity create the resource in the namespace? (Asking needs no rights.) */
function may(cluster: Cluster, namespace: string, right: Right): Promise<boolean> {
  return mayI(cluster, { namespace, verb: 'create', ...right });
}

/** The user name the API server knows this identity by. */
export async function whoAmI(cluster: Cluster): Promise<string> {
  return (await selfSubjectReview(cluster)).username;
}
