import type { KubernetesObject } from '@kubernetes/client-node';
import { deployerRole, previewOfLabel } from '../../names.js';
import { errorText } from '../../util/errors.js';
import { poll } from '../../util/retry.js';
import type { Cluster } from '../client/client.js';
import { applyNamespace, listNamespaces, namespaceExists } from '../client/namespace.js';

// A preview's namespace is made before anything else of the preview: labelled (restricted Pod Security),
// and, when the identity cannot deploy there by itself, with a RoleBinding that gives it the deployer
// ClusterRole there; then what isolates it (default-deny NetworkPolicy, ResourceQuota, LimitRange), which the
// admission policies require before any pod. That is how the preview identity of rbac/preview.yaml works: it
// may create namespaces named <app>-pr-<n> and bind itself in them, nothing else; ValidatingAdmissionPolicies
// hold it to those.

/** The ClusterRole of rbac/deployer.yaml: what the action does inside one namespace. */

export interface PreviewAccess {
  /** the namespace did not exist and was made here */
  created: boolean;
  /** the RoleBinding made for this identity, when it needed one */
  boundAs?: string;
}

const bindingWaitMs = 15_000;

export async function preparePreviewNamespace(
  cluster: Cluster,
  namespace: KubernetesObject,
  options: {
    appName: string;
    fieldManager: string;
    guards: KubernetesObject[];
    maxPreviews: number;
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
  if (await canDeploy(cluster, name)) {
    await writeGuards(cluster, name, options);
    return { created };
  }

  const user = await whoAmI(cluster);
  const role = deployerRole(options.appName);
  await cluster
    .request(
      'PATCH',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${encodeURIComponent(name)}/rolebindings/${role}`,
      {
        query: { fieldManager: options.fieldManager, fieldValidation: 'Strict' },
        contentType: 'application/apply-patch+yaml',
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: role, namespace: name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      },
    )
    .catch((error) => {
      throw new Error(
        `${user} may not deploy in preview namespace '${name}' and cannot bind itself to ClusterRole ${role} there: ${errorText(error)}; apply rbac/deployer.yaml and rbac/preview.yaml for this identity (docs/github-setup.md)`,
        { cause: error },
      );
    });
  // RBAC takes effect when the API server's informer sees the binding: bounded wait
  const waitMs = options.waitMs ?? bindingWaitMs;
  if (
    !(await poll(async () => (await canDeploy(cluster, name)) || undefined, {
      timeoutMs: waitMs,
      intervalMs: 250,
    }))
  )
    throw new Error(
      `RoleBinding ${role} in namespace '${name}' does not let ${user} deploy there after ${Math.round(waitMs / 1000)} s: does ClusterRole ${role} exist (rbac/deployer.yaml)?`,
    );
  await writeGuards(cluster, name, options);
  return { created, boundAs: user };
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

/** SelfSubjectAccessReview: may this identity create Deployments in the namespace? (Needs no rights.) */
async function canDeploy(cluster: Cluster, namespace: string): Promise<boolean> {
  const review = await cluster.request<{ status?: { allowed?: boolean } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace, verb: 'create', group: 'apps', resource: 'deployments' } },
      },
    },
  );
  return review.status?.allowed === true;
}

/** SelfSubjectReview: the user name the API server knows this identity by. */
export async function whoAmI(cluster: Cluster): Promise<string> {
  const review = await cluster.request<{ status?: { userInfo?: { username?: string } } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
  );
  const user = review.status?.userInfo?.username;
  if (!user) throw new Error('the API server did not say who this identity is (SelfSubjectReview)');
  return user;
}
