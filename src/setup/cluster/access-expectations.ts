// What each identity must and must not be allowed to do, derived, not listed by hand: the rights the rendered
// rbac/ objects bind to its user, the rights the action needs for every kind it applies and prunes
// (src/kube/kinds.ts), and, for what it must not do, the same resources elsewhere and every cluster-scoped
// write. Pure: the SubjectAccessReviews that check them are access-review.ts's.
import type { KubernetesObject } from '@kubernetes/client-node';
import { builtInResource } from '../../kube/client/builtin-resources.js';
import type { ResourceAttributes } from '../../kube/client/self-review.js';
import { groupOf, kinds } from '../../kube/kinds.js';
import type { IdentityRole } from '../federation-plan.js';
import type { RbacObject } from './rbac-files.js';

/** resourceAttributes of a SubjectAccessReview (authorization.k8s.io/v1). */
export type Attributes = ResourceAttributes;

export interface AccessCheck {
  identity: IdentityRole;
  /** the table row it belongs to */
  check: string;
  attributes: Attributes;
  expect: 'allowed' | 'denied';
  /** RBAC grants this write cluster-wide on purpose and this ValidatingAdmissionPolicy keeps it in bounds */
  heldBy?: string;
}

export interface ExpectationInput {
  objects: RbacObject[];
  app: string;
  namespace: string;
  users: Record<IdentityRole, string>;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

interface Grant {
  /** undefined: cluster-wide (a ClusterRoleBinding) */
  namespace?: string;
  attributes: Attributes[];
}

const writeVerbs = ['create', 'update', 'patch', 'delete'];

/** Every check for both identities, grouped into the rows of the table by `check`. */
export function accessExpectations(input: ExpectationInput): AccessCheck[] {
  return [...productionChecks(input), ...previewChecks(input)];
}

function productionChecks(input: ExpectationInput): AccessCheck[] {
  const identity: IdentityRole = 'production';
  const grants = grantsOf(input.objects, input.users.production);
  const inNamespace = grants.filter((g) => g.namespace === input.namespace).flatMap((g) => g.attributes);
  const clusterWide = grants.filter((g) => g.namespace === undefined).flatMap((g) => g.attributes);
  const at = (namespace: string) => (a: Attributes) => ({ ...a, namespace });
  const { checks, add } = collector(identity);
  add(
    `deploys in ${input.namespace}`,
    'allowed',
    [...inNamespace, ...actionNeeds()].map(at(input.namespace)),
  );
  add('preflight reads, cluster-wide', 'allowed', clusterWide);
  const elsewhere = ['kube-system', `${input.app}-pr-1`];
  add(
    `nothing in ${elsewhere.join(' or ')}`,
    'denied',
    elsewhere.flatMap((ns) => inNamespace.filter((a) => !covers(clusterWide, a)).map(at(ns))),
  );
  const policy = policyFor(input.objects, input.users.production);
  add('no cluster-scoped writes', 'denied', clusterWrites(input.objects), (a) =>
    covers(clusterWide, a) ? policy : undefined,
  );
  add('cannot widen its own rights', 'denied', [
    ...['rolebindings', 'roles'].map((resource) => ({
      namespace: input.namespace,
      verb: 'create',
      group: 'rbac.authorization.k8s.io',
      resource,
    })),
    ...selfGrants(),
  ]);
  return checks;
}

function previewChecks(input: ExpectationInput): AccessCheck[] {
  const identity: IdentityRole = 'preview';
  const grants = grantsOf(input.objects, input.users.preview);
  const clusterWide = grants.filter((g) => g.namespace === undefined).flatMap((g) => g.attributes);
  const policy = policyFor(input.objects, input.users.preview);
  // RBAC grants some writes cluster-wide (namespaces, rolebindings: it cannot name them); a policy holds them
  const held = (a: Attributes) =>
    writeVerbs.includes(a.verb) && covers(clusterWide, a) ? policy : undefined;
  const { checks, add } = collector(identity);
  add('makes previews and binds itself there', 'allowed', clusterWide);
  // production's objects: every right any binding of the files gives in production's namespace, and RBAC's own
  const production = grantsOf(input.objects, input.users.production)
    .filter((g) => g.namespace === input.namespace)
    .flatMap((g) => g.attributes);
  const rbacWrites = ['rolebindings', 'roles'].flatMap((resource) =>
    writeVerbs.map((verb) => ({ verb, group: 'rbac.authorization.k8s.io', resource })),
  );
  add(
    `nothing in production's namespace ${input.namespace}`,
    'denied',
    [...production, ...rbacWrites]
      // its cluster-wide reads (nodes, quotas, the namespace objects) are the file's, on purpose
      .filter((a) => writeVerbs.includes(a.verb) || !covers(clusterWide, a))
      .map((a) => ({ ...a, namespace: input.namespace })),
    held,
  );
  add('no cluster-scoped writes', 'denied', clusterWrites(input.objects), held);
  add('cannot widen its own rights', 'denied', selfGrants());
  return checks;
}

/** The checks of one identity, and how to add a row's: each attribute once. */
function collector(identity: IdentityRole) {
  const checks: AccessCheck[] = [];
  const add = (
    check: string,
    expect: AccessCheck['expect'],
    list: Attributes[],
    heldBy?: (a: Attributes) => string | undefined,
  ) => {
    for (const attributes of unique(list)) {
      const by = heldBy?.(attributes);
      checks.push({ identity, check, attributes, expect, ...(by ? { heldBy: by } : {}) });
    }
  };
  return { checks, add };
}

/** What every identity must never do: grant itself more, or act as another user. */
function selfGrants(): Attributes[] {
  const group = 'rbac.authorization.k8s.io';
  return [
    { verb: 'escalate', group, resource: 'clusterroles' },
    { verb: 'bind', group, resource: 'clusterroles', name: 'cluster-admin' },
    { verb: 'impersonate', group: '', resource: 'users' },
    { verb: 'create', group: 'certificates.k8s.io', resource: 'certificatesigningrequests' },
  ];
}

/**
 * What a deploy does to every kind it applies (src/kube/kinds.ts): read it, apply it (SSA is a patch, and a
 * create when new), list and delete it in prune, watch the workloads it tracks. Claims are applied, never pruned.
 */
export function actionNeeds(): Attributes[] {
  const out: Attributes[] = [];
  for (const k of kinds) {
    if (k.clusterScoped || !(k.prunable || k.kind === 'PersistentVolumeClaim')) continue;
    const { group, resource } = resourceOf(k.apiVersion, k.kind);
    const verbs = k.prunable ? ['get', 'list', 'create', 'patch', 'delete'] : ['get', 'create', 'patch'];
    if (k.rollout) verbs.push('watch');
    for (const verb of verbs) out.push({ verb, group, resource });
  }
  return out;
}

/** Every write on every cluster-scoped kind the action knows and the files hold. */
function clusterWrites(objects: RbacObject[]): Attributes[] {
  const scoped = new Map<string, { apiVersion: string; kind: string }>();
  for (const k of kinds) if (k.clusterScoped) scoped.set(k.kind, k);
  for (const { object } of objects)
    if (!object.metadata?.namespace && object.apiVersion && object.kind)
      scoped.set(object.kind, { apiVersion: object.apiVersion, kind: object.kind });
  return [...scoped.values()].flatMap(({ apiVersion, kind }) => {
    const { group, resource } = resourceOf(apiVersion, kind);
    return writeVerbs.map((verb) => ({ verb, group, resource }));
  });
}

/** The group and plural of a kind: the built-in table, else Kubernetes' own guess for custom resources. */
export function resourceOf(apiVersion: string, kind: string): { group: string; resource: string } {
  const group = groupOf(apiVersion);
  const known = builtInResource(apiVersion, kind)?.plural;
  if (known) return { group, resource: known };
  // apimachinery's UnsafeGuessKindToResource, which CRDs' defaults follow
  const lower = kind.toLowerCase();
  const resource = lower.endsWith('s')
    ? `${lower}es`
    : lower.endsWith('y')
      ? `${lower.slice(0, -1)}ies`
      : `${lower}s`;
  return { group, resource };
}

/** The rights the objects' bindings give `user`: per RoleBinding namespace, or cluster-wide. */
export function grantsOf(objects: RbacObject[], user: string): Grant[] {
  const roles = new Map<string, Rule[]>();
  for (const { object } of objects)
    if (object.kind === 'ClusterRole' || object.kind === 'Role')
      roles.set(
        `${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`,
        rulesOf(object),
      );
  const grants: Grant[] = [];
  for (const { object } of objects) {
    if (object.kind !== 'RoleBinding' && object.kind !== 'ClusterRoleBinding') continue;
    const b = object as KubernetesObject & {
      subjects?: Array<{ kind?: string; name?: string }>;
      roleRef?: { kind?: string; name?: string };
    };
    if (!b.subjects?.some((s) => s.kind === 'User' && s.name === user)) continue;
    const ns = b.roleRef?.kind === 'Role' ? (object.metadata?.namespace ?? '') : '';
    const rules = roles.get(`${b.roleRef?.kind}/${ns}/${b.roleRef?.name}`) ?? [];
    grants.push({
      ...(object.kind === 'RoleBinding' ? { namespace: object.metadata?.namespace ?? '' } : {}),
      attributes: rules.flatMap(expand),
    });
  }
  return grants;
}

function rulesOf(object: KubernetesObject): Rule[] {
  return ((object as { rules?: Rule[] }).rules ?? []).filter(Boolean);
}

function expand(rule: Rule): Attributes[] {
  const out: Attributes[] = [];
  const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
  for (const group of rule.apiGroups ?? [])
    for (const full of rule.resources ?? [])
      for (const verb of rule.verbs ?? [])
        for (const name of names) {
          const [resource = '', subresource] = full.split('/');
          out.push({
            verb,
            group,
            resource,
            ...(subresource ? { subresource } : {}),
            ...(name ? { name } : {}),
          });
        }
  return out;
}

/** Whether a cluster-wide grant covers `a` (same verb and resource; a grant without names covers any name). */
function covers(grants: Attributes[], a: Attributes): boolean {
  return grants.some(
    (g) =>
      g.verb === a.verb &&
      g.group === a.group &&
      g.resource === a.resource &&
      g.subresource === a.subresource &&
      (g.name === undefined || g.name === a.name),
  );
}

/** The ValidatingAdmissionPolicy of the files that matches `user`'s requests (rbac/preview.yaml's namespaces policy). */
export function policyFor(objects: RbacObject[], user: string): string | undefined {
  const policy = objects.find(
    ({ object }) =>
      object.kind === 'ValidatingAdmissionPolicy' &&
      JSON.stringify(
        (object as { spec?: { matchConditions?: unknown } }).spec?.matchConditions ?? [],
      ).includes(`'${user}'`),
  );
  return policy?.object.metadata?.name;
}

function unique(list: Attributes[]): Attributes[] {
  const seen = new Map<string, Attributes>();
  for (const a of list) seen.set(describeAttributes(a), a);
  return [...seen.values()];
}

/** `patch deployments.apps in archetype`, `get pods/log in kube-system`, `bind clusterroles/cluster-admin`. */
export function describeAttributes(a: Attributes): string {
  const resource = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}`;
  const name = a.name ? ` ${a.name}` : '';
  return `${a.verb} ${resource}${name}${a.namespace ? ` in ${a.namespace}` : ' (cluster-wide)'}`;
}
