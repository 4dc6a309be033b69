// What the API server says of the caller, asking nothing of RBAC (every authenticated user may): who it is
// (SelfSubjectReview, authentication.k8s.io/v1, GA in 1.28) and whether it may do one thing
// (SelfSubjectAccessReview). Previews read them before writing; setup, before planning rbac/.
import type { Cluster } from './client.js';

export interface UserInfo {
  username: string;
  groups: string[];
}

/** resourceAttributes of an access review (authorization.k8s.io/v1). */
export interface ResourceAttributes {
  namespace?: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
}

/** The user and groups the API server authenticated this caller as. */
export async function selfSubjectReview(cluster: Cluster): Promise<UserInfo> {
  const review = await cluster.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
  );
  const info = review.status?.userInfo;
  if (!info?.username)
    throw new Error(`the API server ${cluster.server} did not say who this identity is (SelfSubjectReview)`);
  return { username: info.username, groups: info.groups ?? [] };
}

/** Whether the API server's authorizers let this caller do what `attributes` say. */
export async function mayI(cluster: Cluster, attributes: ResourceAttributes): Promise<boolean> {
  const review = await cluster.request<{ status?: { allowed?: boolean } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: attributes },
      },
    },
  );
  return review.status?.allowed === true;
}
