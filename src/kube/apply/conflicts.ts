import type { KubernetesObject } from '@kubernetes/client-node';
import { errorText } from '../../util/errors.js';
import { describeObject, KubeApiError, type StatusCause } from '../client/client.js';

// Who owns the fields an apply would change (server-side apply's field managers), and the sentence an API
// error becomes: the object, the field and the fix.

/**
 * A manager kubectl writes as: `kubectl` (older versions, and the user agent's default) or `kubectl-<command>`
 * (`kubectl-client-side-apply`, `-create`, `-edit`, `-patch`, `-replace`, `-scale`, `-set`, `-label`,
 * `-annotate`, `-rollout`, ... each command's --field-manager default in kubernetes/kubectl), and plugins
 * run as `kubectl-<name>`. What was made or changed by hand with kubectl is taken over, as kubectl's own
 * migration to server-side apply (client-go's csaupgrade) and fluxcd's ssa do.
 */
export function isKubectlManager(manager: string): boolean {
  return manager === 'kubectl' || manager.startsWith('kubectl-');
}

/**
 * The managers whose fields in conflict are taken over without 'force-conflicts': kubectl's, and
 * `before-first-apply` (the server's name for fields set before managedFields were kept). Their other fields
 * are adopted before the write (adopt.ts), so what the manifests lack goes. The last-applied-configuration
 * annotation stays kubectl's, so that a later `kubectl apply` of the same files computes no change and
 * reverts nothing. Any other manager (a controller, an autoscaler's handover) still conflicts.
 */
export const kubectlManagers: { has(manager: string): boolean } = {
  has: (manager) => manager === 'before-first-apply' || isKubectlManager(manager),
};

export interface Conflict {
  field: string;
  /** e.g. "kubectl-edit" using apps/v1 */
  owner: string;
  manager: string;
}

export function conflictsOf(error: unknown): Conflict[] {
  if (!(error instanceof KubeApiError) || error.status !== 409) return [];
  return error.causes
    .filter((c) => c.reason === 'FieldManagerConflict' || /^conflict with /.test(c.message ?? ''))
    .map((c: StatusCause) => {
      const owner = (c.message ?? '').replace(/^conflict with /, '');
      return { field: c.field ?? '?', owner, manager: /^"([^"]*)"/.exec(owner)?.[1] ?? owner };
    });
}

/** 422 "field is immutable": the change needs the object deleted and made anew. */
export function isImmutable(error: unknown): boolean {
  return (
    error instanceof KubeApiError &&
    error.status === 422 &&
    (error.causes.some((c) => /field is immutable/.test(c.message ?? '')) ||
      /field is immutable/.test(error.serverMessage))
  );
}

/** Turns an API error for one object into a sentence that names the object, the field and the fix. */
export function explain(
  error: unknown,
  object: KubernetesObject,
  namespace: string,
  live?: KubernetesObject,
): string {
  const what = describeObject(object);
  if (!(error instanceof KubeApiError)) return `${what}: ${errorText(error)}`;
  const conflicts = conflictsOf(error);
  if (conflicts.length > 0)
    return (
      `${what}: ${conflicts.length} field(s) are owned by another field manager:\n` +
      conflicts.map((c) => `    ${c.field} (owned by ${c.owner})`).join('\n') +
      `\n  Set input 'force-conflicts' to true to take them over, or stop the other tool from changing them.`
    );
  const immutable = error.causes.filter((c) => /field is immutable/.test(c.message ?? ''));
  if (error.status === 422 && (immutable.length > 0 || /field is immutable/.test(error.serverMessage))) {
    const fields = immutable.map((c) => c.field ?? '?');
    if (fields.length === 0) fields.push('?');
    return fields.map((f) => immutableAdvice(what, object, f, namespace, live)).join('\n  ');
  }
  if (error.status === 422 || error.status === 400) {
    const causes = error.causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`);
    return `${what}: rejected by the API server: ${causes.length > 0 ? causes.join('; ') : error.serverMessage}`;
  }
  if (error.status === 403)
    return `${what}: forbidden: ${error.serverMessage}; the cluster credentials need permission to apply ${object.kind} in namespace '${namespace}'`;
  return `${what}: ${error.status} ${error.reason}: ${error.serverMessage}`;
}

function immutableAdvice(
  what: string,
  object: KubernetesObject,
  field: string,
  namespace: string,
  live?: KubernetesObject,
): string {
  const show = (o: unknown) => (o === undefined ? 'unset' : JSON.stringify(o));
  const values = live
    ? ` The live ${object.kind} has ${show(valueAt(live, field))}; the manifests ask for ${show(valueAt(object, field))}.`
    : '';
  if (object.kind === 'Deployment' && field === 'spec.selector')
    return (
      `${what}: spec.selector is immutable on an existing Deployment.${values} Either keep the old selector ` +
      `(and matching template labels) in the manifests, or delete Deployment ${object.metadata?.name} in namespace ` +
      `'${namespace}' and deploy again (its pods are recreated, with a short outage).`
    );
  return (
    `${what}: ${field} is immutable and the manifests change it.${values} Keep the live value in the manifests, ` +
    `or delete ${what} in namespace '${namespace}' and deploy again.`
  );
}

/** The value at a dotted path of plain fields; undefined for a list index. */
export function valueAt(object: unknown, path: string): unknown {
  let value: unknown = object;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || /\[/.test(key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
