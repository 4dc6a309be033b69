import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aksServerAppId } from '../../src/azure/aks.js';
import { caller, startAzure, sub } from '../azure/setup-fixture.js';
import type { FakeAzure } from '../fakes/azure-server.js';
import { FakeGitHub } from '../fakes/github-server.js';
import { aksUserKubeconfig } from './aks-kubeconfig.js';
import { testCluster } from './cluster.js';

// Runs the built command, dist/setup.js, as a user would, against the Azure stand-in (HTTPS on 127.0.0.1, its
// certificate trusted through NODE_EXTRA_CA_CERTS) and the GitHub stand-in, through the environment variables
// the command documents: AZURE_AUTHORITY_HOST, AZURE_RESOURCE_MANAGER_ENDPOINT, GITHUB_API_URL, and the
// credentials DefaultAzureCredential reads (a service principal: AZURE_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET).
// The stand-in's cluster is the local API server: its user kubeconfig is AKS's Entra one, the caller's tokens
// for it are signed by the issuer the API server trusts, and the caller (a fresh object id per run) is bound
// to cluster-admin, as a member of an AKS cluster's admin groups is.

export const setupJs = new URL('../../dist/setup.js', import.meta.url).pathname;

/**
 * `setup` for the stand-ins' subscription and repository, for `app`: its own namespace and preview domain,
 * since rbac/'s cluster-scoped objects are named after the app and the cluster is shared.
 */
export function setupArgs(app: string, namespace = `${app}-prod`): string[] {
  return [
    'setup',
    '--subscription',
    sub,
    '--resource-group',
    'rg-archetype',
    '--registry',
    'archetypeacr',
    '--cluster',
    'rg-aks/aks-archetype',
    '--repository',
    'team/archetype',
    '--app',
    app,
    '--namespace',
    namespace,
    '--preview-domain',
    `${app}.preview.localhost`,
  ];
}
export const githubToken = 'ghu_setupclitoken';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface StandIns {
  fake: FakeAzure;
  github: FakeGitHub;
  /** the caller's object id: the user the API server knows setup's requests by */
  callerObjectId: string;
  /** the stand-in's CA certificate, for NODE_EXTRA_CA_CERTS of other processes (the action) */
  caFile: string;
  run: (args: string[]) => Promise<CliRun>;
  close: () => Promise<void>;
}

export async function startStandIns(): Promise<StandIns> {
  if (!existsSync(setupJs)) throw new Error(`${setupJs} is missing: run 'npm run build'`);
  const { fake } = await startAzure();
  const callerObjectId = randomUUID();
  fake.objectIds.set(caller.clientId, callerObjectId);
  fake.signWithLocalIssuer([aksServerAppId]);
  const cluster = fake.clusters[0];
  if (cluster) cluster.kubeconfigs.clusterUser = aksUserKubeconfig();
  const admin = testCluster();
  const binding = `setup-cli-caller-${randomBytes(3).toString('hex')}`;
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: callerObjectId }],
    },
  });
  const github = new FakeGitHub('team', 'archetype', githubToken);
  await github.start();
  const dir = mkdtempSync(join(tmpdir(), 'setup-cli-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, fake.certificate);
  // only what the command needs: no proxy, runner or Azure variables of the host leak in
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    NODE_EXTRA_CA_CERTS: caFile,
    AZURE_AUTHORITY_HOST: fake.url,
    AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
    AZURE_TENANT_ID: fake.tenantId,
    AZURE_CLIENT_ID: caller.clientId,
    AZURE_CLIENT_SECRET: caller.secret,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: githubToken,
  };
  const run = (args: string[]) =>
    new Promise<CliRun>((resolve, reject) => {
      const child = spawn(process.execPath, [setupJs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
  const close = async () => {
    await admin.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`);
    await github.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { fake, github, callerObjectId, caFile, run, close };
}
