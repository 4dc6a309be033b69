// The checks after apply: a SubjectAccessReview (authorization.k8s.io/v1) per expected right and per right an
// identity must not have, asked by the signed-in user about each identity as the API server knows it (its
// user name and groups), and summed up into the table's rows. A write RBAC grants cluster-wide on purpose
// (a preview's namespaces and RoleBindings) counts as held only while the admission policy that bounds it is
// in the cluster and bound with Deny: RBAC alone would let it reach production.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Cluster } from '../../kube/client/client.js';
import type { IdentityRole } from '../federation-plan.js';
import { type AccessCheck, type Attributes, describeAttributes } from './access-expectations.js';
import type { CheckRow } from './check-table.js';
import type { RbacObject } from './rbac-files.js';

/** An identity as the API server sees it: on AKS its object id, and the groups its tokens carry. */
export interface KubeSubject {
  user: string;
  groups?: string[];
}

/**
 * The user and groups the API server gives a Microsoft Entra token of `principalId`: the oid claim is the
 * user (AKS, and the local target's structured authentication), and every authenticated user is in
 * system:authenticated, which bindings may name too.
 */
export function entraSubject(principalId: string, tokenGroups: string[] = []): KubeSubject {
  return { user: principalId, groups: ['system:authenticated', ...tokenGroups] };
}

export interface ReviewOptions {
  /** SubjectAccessReviews in flight at once */
  concurrency?: number;
}

/** Runs every check and returns one row per identity and check, in the order the checks come. */
export async function reviewAccess(
  cluster: Cluster,
  subjects: Record<IdentityRole, KubeSubject>,
  checks: AccessCheck[],
  objects: RbacObject[],
  options: ReviewOptions = {},
): Promise<CheckRow[]> {
  const allowed = await inPool(checks, options.concurrency ?? 8, (c) =>
    review(cluster, subjects[c.identity], c.attributes),
  );
  const policies = new Map<string, Promise<string | undefined>>();
  const policyProblem = (name: string, user: string) => {
    let p = policies.get(name);
    if (!p) {
      p = livePolicyProblem(cluster, name, user, objects);
      policies.set(name, p);
    }
    return p;
  };
  const rows = new Map<string, { row: CheckRow; passed: number; held: Set<string>; failures: string[] }>();
  for (const [i, c] of checks.entries()) {
    const key = `${c.identity}\u0000${c.check}`;
    let group = rows.get(key);
    if (!group) {
      group = {
        row: { identity: c.identity, check: c.check, ok: true, detail: '' },
        passed: 0,
        held: new Set(),
        failures: [],
      };
      rows.set(key, group);
    }
    const yes = allowed[i] === true;
    const what = describeAttributes(c.attributes);
    if (c.expect === 'allowed') {
      if (yes) group.passed++;
      else group.failures.push(`may not ${what} (needed)`);
    } else if (!yes) group.passed++;
    else if (c.heldBy) {
      const problem = await policyProblem(c.heldBy, subjects[c.identity].user);
      if (problem) group.failures.push(`may ${what}: RBAC allows it and ${problem}`);
      else {
        group.passed++;
        group.held.add(c.heldBy);
      }
    } else group.failures.push(`may ${what} (must not)`);
  }
  return [...rows.values()].map(({ row, passed, held, failures }) => ({
    ...row,
    ok: failures.length === 0,
    detail: failures.length > 0 ? summary(failures) : okDetail(passed, held),
  }));
}

function okDetail(passed: number, held: Set<string>): string {
  const policy =
    held.size > 0
      ? `; writes RBAC grants cluster-wide are held by admission policy ${[...held].join(', ')}`
      : '';
  return `${passed} access review${passed === 1 ? '' : 's'} as expected${policy}`;
}

function summary(failures: string[]): string {
  const shown = failures.slice(0, 4).join('; ');
  return failures.length > 4 ? `${shown}; and ${failures.length - 4} more` : shown;
}

/** One SubjectAccessReview: whether the API server's authorizers allow `subject` the request. */
async function review(cluster: Cluster, subject: KubeSubject, attributes: Attributes): Promise<boolean> {
  const answer = await cluster.request<{ status?: { allowed?: boolean; evaluationError?: string } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: subject.user, groups: subject.groups ?? [], resourceAttributes: attributes },
      },
    },
  );
  return answer.status?.allowed === true;
}

/** Why the admission policy `name` does not hold `user`'s writes, or undefined when it does (live, bound, Deny). */
async function livePolicyProblem(
  cluster: Cluster,
  name: string,
  user: string,
  objects: RbacObject[],
): Promise<string | undefined> {
  const base = '/apis/admissionregistration.k8s.io/v1';
  const policy = await cluster.get<KubernetesObject>(
    `${base}/validatingadmissionpolicies/${encodeURIComponent(name)}`,
  );
  if (!policy) return `admission policy ${name} (rbac/preview.yaml), which refuses it, is not in the cluster`;
  if (!JSON.stringify(policy).includes(`'${user}'`))
    return `admission policy ${name} in the cluster matches another user than ${user}: apply rbac/preview.yaml for this identity`;
  const bindingName =
    objects.find(
      ({ object }) =>
        object.kind === 'ValidatingAdmissionPolicyBinding' &&
        (object as { spec?: { policyName?: string } }).spec?.policyName === name,
    )?.object.metadata?.name ?? name;
  const binding = await cluster.get<{ spec?: { policyName?: string; validationActions?: string[] } }>(
    `${base}/validatingadmissionpolicybindings/${encodeURIComponent(bindingName)}`,
  );
  if (binding?.spec?.policyName !== name || !binding.spec.validationActions?.includes('Deny'))
    return `admission policy ${name} is not bound with validationActions [Deny] (binding ${bindingName}), so it refuses nothing`;
  return undefined;
}

/** Maps `items` through `fn`, at most `limit` at a time, results in order. */
async function inPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
