import type { KubernetesObject } from '@kubernetes/client-node';
import { deployerRole } from '../names.js';
import { errorText } from '../util/errors.js';
import { poll } from '../util/retry.js';
import { type Cluster, isNotFound } from './client.js';

// A preview's namespace is made before anything else of the preview: labelled (restricted Pod Security),
// and, when the identity cannot deploy there by itself, with a RoleBinding that gives it the deployer
// ClusterRole there. That is how the preview identity of rbac/preview.yaml works: it may create namespaces
// named <app>-pr-<n> and bind itself in them, nothing else; a ValidatingAdmissionPolicy holds it to those.

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
  options: { appName: string; fieldManager: string; waitMs?: number },
): Promise<PreviewAccess> {
  const name = namespace.metadata?.name ?? '';
  const path = `/api/v1/namespaces/${encodeURIComponent(name)}`;
  let created = false;
  try {
    const live = await cluster.request<{ status?: { phase?: string } }>('GET', path);
    if (live.status?.phase === 'Terminating')
      throw new Error(
        `namespace '${name}' is being deleted (a teardown may still be running); wait until it is gone and deploy again`,
      );
  } catch (error) {
    if (!isNotFound(error)) throw error;
    created = true;
  }
  await cluster
    .request('PATCH', path, {
      query: { fieldManager: options.fieldManager, fieldValidation: 'Strict' },
      contentType: 'application/apply-patch+yaml',
      body: namespace,
    })
    .catch((error) => {
      throw new Error(
        `cannot ${created ? 'create' : 'label'} preview namespace '${name}': ${errorText(error)}; the identity needs the rights of rbac/preview.yaml`,
      );
    });
  if (await canDeploy(cluster, name)) return { created };

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
  return { created, boundAs: user };
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
