// The rbac/ files as setup applies them: read from the package (a clone, or the repository npx fetched), their
// ${VARS} substituted the way `envsubst` substitutes them in docs/github-setup.md step 4, and parsed into
// objects that remember their file. The tests' identities (test/helpers/identities.ts) render through the same
// substitute(), so the cluster the tests check is the one setup makes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** The files, in the order they must be applied (the roles before what binds them). */
export const rbacFiles = ['deployer', 'production', 'preview'] as const;
export type RbacFile = (typeof rbacFiles)[number];

export interface RbacObject {
  /** e.g. rbac/preview.yaml, for messages */
  file: string;
  object: KubernetesObject;
  /**
   * shared by every app on the cluster (rbac/preview.yaml's pod policies, whose names carry no APP): applied
   * when missing or different, never deleted, since the API server serves them from an informer that a
   * delete stops until it restarts (see the comment in rbac/preview.yaml)
   */
  shared: boolean;
}

/** What the files' variables stand for: the action's inputs and the identities' principals. */
export interface RbacInput {
  /** input app-name */
  app: string;
  /** input namespace: production's */
  namespace: string;
  /** the Kubernetes user names of the identities: on AKS, their Microsoft Entra object (principal) ids */
  productionPrincipal: string;
  previewPrincipal: string;
  /** input preview-domain */
  previewDomain: string;
  /** input ingress-namespace (app-routing-system on AKS) */
  ingressNamespace: string;
  /** input gateway as namespace/name; absent: no preview may hold an HTTPRoute */
  gateway?: { namespace: string; name: string };
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// an Entra object id, or a user principal name: nothing that could end a CEL string literal or a YAML scalar
const principal = /^[A-Za-z0-9@._:-]{1,256}$/;

/**
 * The envsubst variables of the three files. Each value lands inside YAML scalars and inside the admission
 * policies' CEL string literals ('${PREVIEW_DOMAIN}'), so each is held to its shape first: a quote in a
 * domain would otherwise rewrite a policy.
 */
export function rbacVariables(input: RbacInput): Record<string, string> {
  const check = (name: string, value: string, shape: RegExp, like: string, max = 253) => {
    if (!shape.test(value) || value.length > max)
      throw new Error(
        `rbac/ variable ${name} is '${value}': it is written into rbac/*.yaml's names and admission policies, ` +
          `so it must be ${like}; give one that is`,
      );
  };
  // the longest name made from APP is `${APP}-preview-namespaces`, within the 253 of an object name, and a
  // preview namespace `${APP}-pr-<n>` must stay a 63-character label
  check('APP', input.app, dnsLabel, 'a DNS label of at most 50 characters, like archetype', 50);
  check('NAMESPACE', input.namespace, dnsLabel, 'a namespace name (a DNS label), like archetype', 63);
  check('PRODUCTION_PRINCIPAL', input.productionPrincipal, principal, "the production identity's object id");
  check('PREVIEW_PRINCIPAL', input.previewPrincipal, principal, "the preview identity's object id");
  if (input.productionPrincipal === input.previewPrincipal)
    throw new Error(
      `the production and preview identities are both '${input.productionPrincipal}': previews would deploy as production; give each its own identity`,
    );
  check('PREVIEW_DOMAIN', input.previewDomain, dnsName, 'a DNS name, like preview.example.com');
  if (input.ingressNamespace !== '')
    check(
      'INGRESS_NAMESPACE',
      input.ingressNamespace,
      dnsLabel,
      'a namespace name, like app-routing-system',
      63,
    );
  if (input.gateway) {
    check(
      'GATEWAY_NAMESPACE',
      input.gateway.namespace,
      dnsLabel,
      'a namespace name, like gateway-system',
      63,
    );
    check('GATEWAY_NAME', input.gateway.name, dnsName, 'a Gateway name, like shared');
  }
  return {
    APP: input.app,
    NAMESPACE: input.namespace,
    PRODUCTION_PRINCIPAL: input.productionPrincipal,
    PREVIEW_PRINCIPAL: input.previewPrincipal,
    PREVIEW_DOMAIN: input.previewDomain,
    INGRESS_NAMESPACE: input.ingressNamespace,
    GATEWAY_NAMESPACE: input.gateway?.namespace ?? '',
    GATEWAY_NAME: input.gateway?.name ?? '',
  };
}

/**
 * `envsubst < <file>`: every ${NAME} replaced by its value. Unlike envsubst, a variable the file uses but
 * `vars` lacks is an error naming it (envsubst would write an empty string, binding the role to user "").
 */
export function substitute(file: string, text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`${file} uses \${${name}}, which was not given`);
    return value;
  });
}

/** The objects of one file's text, substituted and parsed, each with its file. */
export function renderRbacText(file: string, text: string, vars: Record<string, string>): RbacObject[] {
  const objects = parse(file, substitute(file, text, vars));
  // rendered again with APP as a marker: an object whose name then lacks it is named the same for every app
  const marker = 'x0app0x';
  const marked = vars.APP === undefined ? [] : parse(file, substitute(file, text, { ...vars, APP: marker }));
  return objects.map((object, i) => ({
    file,
    object,
    shared: marked.length > 0 && !(marked[i]?.metadata?.name ?? marker).includes(marker),
  }));
}

function parse(file: string, text: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`${file} does not parse after substitution: ${doc.errors[0]?.message}`);
    const object = doc.toJS() as KubernetesObject | null;
    if (object) objects.push(object);
  }
  return objects;
}

/**
 * The folder holding rbac/deployer.yaml above this module: the repository root from src/setup/cluster/ (tests)
 * and from dist/ (the bundled command, run from a clone or by npx, whose package is the whole repository).
 */
export function rbacDir(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let up = 0; up < 6; up++) {
    const candidate = join(dir, 'rbac');
    if (existsSync(join(candidate, 'deployer.yaml'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(
    `no rbac/deployer.yaml in ${from} or the 5 folders above it: run setup from a clone of archetype-deploy (or npx with the repository), whose rbac/ folder it applies`,
  );
}

/** Every object setup applies, in apply order: the three files rendered with `input`'s variables. */
export function renderRbac(input: RbacInput, dir = rbacDir()): RbacObject[] {
  const vars = rbacVariables(input);
  return rbacFiles.flatMap((name) =>
    renderRbacText(`rbac/${name}.yaml`, readFileSync(join(dir, `${name}.yaml`), 'utf8'), vars),
  );
}
