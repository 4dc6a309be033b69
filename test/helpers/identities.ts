import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Cluster, isNotFound } from '../../src/kube/client/client.js';
import { renderRbacText } from '../../src/setup/cluster/rbac-files.js';
import { kubeconfigText, testCluster } from './cluster.js';

// The identities docs/github-setup.md sets up, on the local control plane: a user the API server knows only
// by name (as AKS knows an Entra identity by its object id), bound by nothing but the repository's own
// rbac/*.yaml, applied the way the docs apply them (envsubst, then apply as a cluster admin). The user
// authenticates with a client certificate of the stack's CA; the RBAC it meets is the real thing.

const stackDir = () => process.env.STACK_DIR ?? '/tmp/archetype-stack';

export interface Identity {
  /** the Kubernetes user name: a fresh UUID per test run, as an Entra object id is */
  user: string;
  /** kubeconfig text for the action's 'kubeconfig' input */
  kubeconfig: string;
  cluster: Cluster;
}

/** A client certificate for `user`, signed by the stack's CA, in a kubeconfig for the local API server. */
export function identity(user = randomUUID()): Identity {
  const pki = join(stackDir(), 'pki');
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));
  try {
    const key = join(dir, 'key.pem');
    const csr = join(dir, 'req.csr');
    const crt = join(dir, 'crt.pem');
    const ext = join(dir, 'ext.cnf');
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key);
    openssl('req', '-new', '-key', key, '-subj', `/CN=${user}`, '-out', csr);
    writeFileSync(ext, 'extendedKeyUsage=clientAuth\n');
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(pki, 'ca.crt'),
      '-CAkey',
      join(pki, 'ca.key'),
      '-CAcreateserial',
      '-CAserial',
      join(dir, 'ca.srl'),
      '-days',
      '1',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      crt,
    );
    const admin = kubeconfigText();
    const server = /server:\s*(\S+)/.exec(admin)?.[1];
    const ca = /certificate-authority-data:\s*(\S+)/.exec(admin)?.[1];
    if (!server || !ca) throw new Error('the admin kubeconfig has no server or CA data');
    const b64 = (path: string) => readFileSync(path).toString('base64');
    const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: '${server}', certificate-authority-data: ${ca}}
users:
- name: ${user}
  user: {client-certificate-data: ${b64(crt)}, client-key-data: ${b64(key)}}
contexts:
- name: local
  context: {cluster: local, user: ${user}}
current-context: local
`;
    return { user, kubeconfig, cluster: testCluster(kubeconfig) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The objects of rbac/<file>.yaml with ${VARS} substituted, as `envsubst < rbac/<file>.yaml` gives them. */
export function rbacObjects(file: string, vars: Record<string, string>): KubernetesObject[] {
  // setup's own rendering (src/setup/cluster/rbac-files.ts), so the tests' identities are the ones setup makes
  const text = readFileSync(new URL(`../../rbac/${file}.yaml`, import.meta.url), 'utf8');
  return renderRbacText(`rbac/${file}.yaml`, text, vars).map((o) => o.object);
}

/** `kubectl apply` of rbac/<file>.yaml as the cluster admin (server-side apply). */
export async function applyRbac(admin: Cluster, file: string, vars: Record<string, string>): Promise<void> {
  for (const object of rbacObjects(file, vars)) {
    const path = await admin.pathOf(
      object.apiVersion ?? '',
      object.kind ?? '',
      object.metadata?.namespace,
      object.metadata?.name,
    );
    await admin.request('PATCH', path, {
      query: { fieldManager: 'cluster-admin', force: true },
      contentType: 'application/apply-patch+yaml',
      body: object,
    });
  }
}

/**
 * Removes what applyRbac made (cluster-scoped objects outlive the test's namespaces), except the objects every
 * app shares (named without the test's APP): rbac/preview.yaml's pod policies must stay while the API server
 * runs (see the comment there).
 */
export async function deleteRbac(admin: Cluster, file: string, vars: Record<string, string>): Promise<void> {
  const app = vars.APP ?? 'archetype';
  for (const object of rbacObjects(file, vars).reverse()) {
    const shared =
      object.kind?.startsWith('ValidatingAdmissionPolicy') && !object.metadata?.name?.includes(app);
    if (shared) continue;
    const path = await admin.pathOf(
      object.apiVersion ?? '',
      object.kind ?? '',
      object.metadata?.namespace,
      object.metadata?.name,
    );
    await admin.request('DELETE', path).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
}

export interface ProductionIdentity extends Identity {
  /** the variables rbac/production.yaml was applied with, for namespace */
  vars(namespace: string): Record<string, string>;
  /** rbac/production.yaml for one more namespace (once; the namespace exists afterwards) */
  bind(namespace: string): Promise<void>;
  /** unbinds the identity again (and deletes the namespaces, as production.yaml made them) */
  remove(): Promise<void>;
}

/**
 * The production identity of docs/github-setup.md, allowed to deploy into `namespaces` and nowhere else:
 * rbac/deployer.yaml once, then rbac/production.yaml per namespace, as the docs apply them. The namespaces
 * exist afterwards, as they do on a cluster set up by the docs.
 */
export async function productionIdentity(
  admin: Cluster,
  namespaces: string[],
  app = 'archetype',
): Promise<ProductionIdentity> {
  const id = identity();
  const vars = (namespace: string) => ({ APP: app, NAMESPACE: namespace, PRODUCTION_PRINCIPAL: id.user });
  const bound = new Set<string>();
  const bind = async (namespace: string) => {
    if (bound.has(namespace)) return;
    if (bound.size === 0) await applyRbac(admin, 'deployer', vars(namespace));
    await applyRbac(admin, 'production', vars(namespace));
    bound.add(namespace);
  };
  for (const namespace of namespaces) await bind(namespace);
  return {
    ...id,
    vars,
    bind,
    remove: async () => {
      for (const namespace of bound) await deleteRbac(admin, 'production', vars(namespace));
    },
  };
}
