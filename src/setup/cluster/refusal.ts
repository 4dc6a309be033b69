// What the API server's refusal of one rbac/ object means for the person running setup: the object, its file,
// the right that is missing, and who can give it. Kubernetes RBAC refuses in two ways: a verb the user does
// not hold ("cannot patch resource ..."), and a role or binding that grants more than the user holds
// ("attempting to grant RBAC permissions not currently held", its escalation check).
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError } from '../../kube/client/client.js';
import { errorText } from '../../util/errors.js';

/** kind/namespace/name (kind/name when cluster-scoped) and its file: how every message names an object. */
export function objectLabel(object: KubernetesObject, file: string): string {
  const ns = object.metadata?.namespace;
  return `${object.kind}/${ns ? `${ns}/` : ''}${object.metadata?.name ?? '?'} (${file})`;
}

/** Who can grant a right on the cluster: on AKS with Entra integration, a member of its admin groups. */
export const whoCanGrant =
  "a cluster admin can grant it; on AKS, run setup as a member of one of the cluster's admin groups " +
  '(aadProfile.adminGroupObjectIDs: az aks update --aad-admin-group-object-ids <group id>), bound to cluster-admin';

export interface Refusal {
  /** the sentence for the plan: object, file, missing right, fix */
  message: string;
  /** the missing right as `verb resource.group in scope`, when the server said it */
  right?: string;
}

/** The refusal of `object` as a sentence, or undefined when `error` is no refusal (403) at all. */
export function refusalOf(
  error: unknown,
  object: KubernetesObject,
  file: string,
  user: string,
): Refusal | undefined {
  if (!(error instanceof KubeApiError)) return undefined;
  const what = objectLabel(object, file);
  const text = error.serverMessage;
  // a policy binding with a paramRef: the API server asks that its writer may read the parameters
  const param = /does not have "(\w+)" permission on the object referenced by paramRef/.exec(text);
  if (error.status === 422 && param)
    return {
      right: `${param[1]} on the objects its policy's spec.paramKind names`,
      message: `${what}: ${user} may not ${param[1]} the objects its paramRef names (the policy's spec.paramKind), which binding it needs; ${whoCanGrant}`,
    };
  if (error.status !== 403) return undefined;
  const verb =
    /cannot (\S+) resource "([^"]+)" in API group "([^"]*)" (in the namespace "([^"]+)"|at the cluster scope)/.exec(
      text,
    );
  if (verb) {
    const [, action, resource, group, , namespace] = verb;
    const right = `${action} ${resource}${group ? `.${group}` : ''} ${namespace ? `in namespace ${namespace}` : 'at the cluster scope'}`;
    return {
      right,
      message: `${what}: ${user} may not ${right}, which applying it needs; ${whoCanGrant}`,
    };
  }
  if (/attempting to grant RBAC permissions not currently held/.test(text)) {
    const resource = object.kind === 'ClusterRole' || object.kind === 'Role' ? 'escalate' : 'bind';
    const right = `${resource} clusterroles.rbac.authorization.k8s.io at the cluster scope`;
    return {
      right,
      message:
        `${what}: it grants rights ${user} does not hold itself, which Kubernetes allows only to who holds them ` +
        `or may ${right} (${text.slice(text.indexOf('not currently held') + 19, 400).trim()}); ${whoCanGrant}`,
    };
  }
  // another refusal (an admission webhook or policy answering 403): the server's words
  return { message: `${what}: refused: ${text || errorText(error)}` };
}
