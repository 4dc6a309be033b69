// aksKubeconfig against a local stand-in (test/fakes/azure-server.ts) for Entra ID ("Microsoft identity
// platform and the OAuth 2.0 client credentials flow") and for Azure Resource Manager's REST API
// "Managed Clusters - List Cluster User Credentials" / "- List Cluster Admin Credentials"
// (POST .../managedClusters/{name}/listClusterUserCredential?api-version=...&format=exec, answering
// {"kubeconfigs":[{"name","value": base64}]}, errors as {"error":{"code","message"}}).

import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  type AksCluster,
  aksApiVersion,
  aksKubeconfig,
  aksServerAppId,
  signsInWithEntra,
} from '../../src/azure/aks.js';
import { EntraTokens, entraAuthProvider } from '../../src/azure/cluster-token.js';
import { azureCredential } from '../../src/azure/identity.js';
import { aksNetworkPolicy, isolationRefusal } from '../../src/azure/network-policy.js';
import { jwtClaims } from '../../src/azure/token.js';
import { FakeAzure, type FakeCluster } from '../fakes/azure-server.js';
import { bareRunner, captureStdout, setEnv } from '../fakes/runner-env.js';

const deployer = '66666666-6666-6666-6666-666666666666';
const outsider = '77777777-7777-7777-7777-777777777777';
const subscriptionId = '8f2e4a51-0c3d-4b7e-9a16-5d0c2b7e9f43';
const cluster: AksCluster = {
  kind: 'aks',
  subscriptionId,
  resourceGroup: 'rg-archetype',
  clusterName: 'aks-archetype',
  admin: false,
  publicFqdn: false,
};
const clusterPath = `/subscriptions/${subscriptionId}/resourceGroups/rg-archetype/providers/Microsoft.ContainerService/managedClusters/aks-archetype`;

const clusterPart = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0EgZGF0YQ==
    server: https://127.0.0.1:6443
  name: aks-archetype
contexts:
- context:
    cluster: aks-archetype
    user: USER
  name: aks-archetype
current-context: aks-archetype
preferences: {}
`;

// What AKS returns for a cluster with AKS-managed Entra ID integration, format=exec
const userKubeconfig = `${clusterPart.replace('USER', 'clusterUser_rg-archetype_aks-archetype')}users:
- name: clusterUser_rg-archetype_aks-archetype
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - ${aksServerAppId}
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - TENANT
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: |
        kubelogin is not installed which is required to connect to AAD enabled cluster.
      interactiveMode: IfAvailable
      provideClusterInfo: false
`;

const adminKubeconfig = `${clusterPart.replace('USER', 'clusterAdmin_rg-archetype_aks-archetype')}users:
- name: clusterAdmin_rg-archetype_aks-archetype
  user:
    client-certificate-data: Q0xJRU5UIENFUlQ=
    client-key-data: Q0xJRU5UIEtFWQ==
    token: 0123456789abcdef0123456789abcdef
`;

let fake: FakeAzure;
let restoreEnv: () => void;
let stdout: ReturnType<typeof captureStdout>;

beforeAll(async () => {
  fake = await FakeAzure.start();
  fake.apps.set(deployer, { secret: 'deployer-secret' });
  fake.apps.set(outsider, { secret: 'outsider-secret' });
  fake.clusters.push({
    subscriptionId,
    resourceGroup: 'rg-archetype',
    name: 'aks-archetype',
    kubeconfigs: {
      clusterUser: userKubeconfig.replace('TENANT', fake.tenantId),
      clusterAdmin: adminKubeconfig,
    },
    users: [deployer],
    admins: [deployer],
  });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  restoreEnv = setEnv(bareRunner);
  stdout = captureStdout();
});
afterEach(() => {
  stdout.restore();
  restoreEnv();
});

const credentialOf = (clientId: string) =>
  azureCredential(
    {
      clientId,
      tenantId: fake.tenantId,
      clientSecret: `${clientId === deployer ? 'deployer' : 'outsider'}-secret`,
    },
    { authorityHost: fake.url },
  );

async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected a rejection');
}

describe('aksKubeconfig', () => {
  it('gets the user kubeconfig from ARM and replaces the kubelogin exec with an Entra token', async () => {
    const text = await aksKubeconfig(cluster, credentialOf(deployer), { armEndpoint: fake.url });

    const [armRequest, ...more] = fake.requestsTo('POST', /managedClusters/);
    expect(more).toHaveLength(0);
    expect(armRequest?.path).toBe(`${clusterPath}/listClusterUserCredential`);
    expect(armRequest?.query).toEqual({ 'api-version': aksApiVersion, format: 'exec' });
    // an action's POST carries no body, as Azure's own clients send it (no text/plain empty body)
    expect(armRequest?.headers['content-type']).toBeUndefined();
    const armToken = armRequest?.headers.authorization?.replace(/^Bearer /, '') ?? '';
    expect(jwtClaims(armToken)).toMatchObject({ aud: fake.url, appid: deployer });

    // the kubelogin exec entry becomes our auth-provider: a token per request, renewed before it expires
    const kubeconfig = parse(text);
    expect(kubeconfig.users).toHaveLength(1);
    expect(kubeconfig.users[0].user).toEqual({
      'auth-provider': { name: entraAuthProvider, config: { scope: `${aksServerAppId}/.default` } },
    });
    expect(text).not.toContain('kubelogin');
    // the rest of the kubeconfig is AKS's, and @kubernetes/client-node takes it as it is
    const tokens = new EntraTokens(credentialOf(deployer));
    const kc = new KubeConfig();
    kc.addAuthenticator(tokens.authenticator());
    kc.loadFromString(text);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    const options: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(options);
    const token = options.headers?.Authorization?.replace(/^Bearer /, '') ?? '';
    expect(jwtClaims(token)).toMatchObject({ aud: aksServerAppId, appid: deployer, tid: fake.tenantId });

    const scopes = fake
      .requestsTo('POST', `/${fake.tenantId}/oauth2/v2.0/token`)
      .flatMap((r) => r.form.scope?.split(' ') ?? []);
    expect(scopes).toEqual(expect.arrayContaining([`${fake.url}/.default`, `${aksServerAppId}/.default`]));
    expect(stdout.masked()).toEqual(expect.arrayContaining([armToken, token]));
  });

  it('tells an Entra sign-in from a local account', async () => {
    const text = await aksKubeconfig(cluster, credentialOf(deployer), { armEndpoint: fake.url });
    expect(signsInWithEntra(text)).toBe(true);
    // a cluster with local accounts: the user kubeconfig holds a client certificate, cluster-admin
    expect(signsInWithEntra(adminKubeconfig)).toBe(false);
  });

  it("asks for the public FQDN's kubeconfig of a private cluster when told to", async () => {
    await aksKubeconfig({ ...cluster, publicFqdn: true }, credentialOf(deployer), { armEndpoint: fake.url });
    const [armRequest] = fake.requestsTo('POST', /managedClusters/);
    expect(armRequest?.query).toEqual({
      'api-version': aksApiVersion,
      format: 'exec',
      'server-fqdn': 'public',
    });
  });

  it('gets the admin kubeconfig when asked, unchanged, with its credentials masked', async () => {
    const text = await aksKubeconfig({ ...cluster, admin: true }, credentialOf(deployer), {
      armEndpoint: fake.url,
    });
    const [armRequest] = fake.requestsTo('POST', /managedClusters/);
    expect(armRequest?.path).toBe(`${clusterPath}/listClusterAdminCredential`);
    expect(armRequest?.query).toEqual({ 'api-version': aksApiVersion });
    expect(text).toBe(adminKubeconfig);
    expect(stdout.masked()).toEqual(
      expect.arrayContaining(['Q0xJRU5UIEtFWQ==', 'Q0xJRU5UIENFUlQ=', '0123456789abcdef0123456789abcdef']),
    );
  });

  it('names the missing resource group on 404', async () => {
    const message = await rejectionOf(
      aksKubeconfig({ ...cluster, resourceGroup: 'rg-typo' }, credentialOf(deployer), {
        armEndpoint: fake.url,
      }),
    );
    expect(message).toContain('answered HTTP 404');
    expect(message).toContain("ResourceGroupNotFound: Resource group 'rg-typo' could not be found.");
    expect(message).toContain(
      `Resource group 'rg-typo' was not found in subscription '${subscriptionId}': check input 'resource-group'.`,
    );
  });

  it('names the missing cluster on 404', async () => {
    const message = await rejectionOf(
      aksKubeconfig({ ...cluster, clusterName: 'aks-typo' }, credentialOf(deployer), {
        armEndpoint: fake.url,
      }),
    );
    expect(message).toContain('ResourceNotFound');
    expect(message).toContain(
      `AKS cluster 'aks-typo' was not found in resource group 'rg-archetype' of subscription '${subscriptionId}'`,
    );
  });

  it('names the role to assign on 403', async () => {
    const message = await rejectionOf(
      aksKubeconfig(cluster, credentialOf(outsider), { armEndpoint: fake.url }),
    );
    expect(message).toContain('answered HTTP 403');
    expect(message).toContain('AuthorizationFailed');
    expect(message).toContain(
      `If they are right, the identity ${outsider} needs the 'Azure Kubernetes Service Cluster User Role'`,
    );
    expect(message).toContain(
      `az role assignment create --assignee ${outsider} --role "Azure Kubernetes Service Cluster User Role" --scope ${clusterPath}`,
    );
  });

  it('names the inputs to check when a least-privilege identity gets 403 for a mistyped resource group', async () => {
    // ARM's answer for a scope the identity may not see (its role is on the cluster alone): 403, not 404
    const entry = fake.clusters[0];
    if (!entry) throw new Error('no fake cluster');
    entry.roleScope = 'cluster';
    try {
      const message = await rejectionOf(
        aksKubeconfig({ ...cluster, resourceGroup: 'rg-typo' }, credentialOf(deployer), {
          armEndpoint: fake.url,
        }),
      );
      expect(message).toContain('answered HTTP 403');
      expect(message).toContain('AuthorizationFailed');
      expect(message).toContain(
        `Check inputs 'azure-subscription-id' (${subscriptionId}), 'resource-group' (rg-typo) and 'cluster-name' (aks-archetype)`,
      );
      // the right names still work
      await aksKubeconfig(cluster, credentialOf(deployer), { armEndpoint: fake.url });
    } finally {
      entry.roleScope = undefined;
    }
  });

  it('says to drop admin-credentials when the cluster disables local accounts', async () => {
    fake.inject(`POST ${clusterPath}/listClusterAdminCredential`, {
      status: 400,
      json: {
        error: {
          code: 'BadRequest',
          message:
            'Getting static credential is not allowed because this cluster is set to disable local accounts.',
        },
      },
    });
    const message = await rejectionOf(
      aksKubeconfig({ ...cluster, admin: true }, credentialOf(deployer), { armEndpoint: fake.url }),
    );
    expect(message).toContain('disable local accounts');
    expect(message).toContain("set input 'admin-credentials' to false");
  });

  it('uses the server application the kubeconfig names (legacy Entra ID integration)', async () => {
    const legacyApp = '99999999-9999-9999-9999-999999999999';
    fake.inject(`POST ${clusterPath}/listClusterUserCredential`, {
      status: 200,
      json: {
        kubeconfigs: [
          {
            name: 'clusterUser',
            value: Buffer.from(userKubeconfig.replace(aksServerAppId, legacyApp)).toString('base64'),
          },
        ],
      },
    });
    const text = await aksKubeconfig(cluster, credentialOf(deployer), { armEndpoint: fake.url });
    expect(parse(text).users[0].user['auth-provider'].config.scope).toBe(`${legacyApp}/.default`);
    // the first token was fetched for that audience already, so a credential that cannot have one fails early
    const scopes = fake
      .requestsTo('POST', `/${fake.tenantId}/oauth2/v2.0/token`)
      .flatMap((r) => r.form.scope?.split(' ') ?? []);
    expect(scopes).toContain(`${legacyApp}/.default`);
  });
});

// Managed Clusters - Get (specification/containerservice/resource-manager/Microsoft.ContainerService/aks/
// stable/2024-09-01, examples/ManagedClustersGet.json, which the fake answers as): properties.networkProfile.
// networkPolicy names the engine (enum NetworkPolicy: none, calico, azure, cilium; absent means none).
describe('aksNetworkPolicy', () => {
  const withProfile = async (
    profile: Partial<Pick<FakeCluster, 'networkPolicy' | 'networkPlugin' | 'networkDataplane'>>,
  ) => {
    const entry = fake.clusters[0];
    if (!entry) throw new Error('no fake cluster');
    Object.assign(
      entry,
      { networkPolicy: undefined, networkPlugin: undefined, networkDataplane: undefined },
      profile,
    );
    return aksNetworkPolicy(cluster, credentialOf(deployer), { armEndpoint: fake.url });
  };
  const refusalOf = async (profile: Parameters<typeof withProfile>[0]) =>
    isolationRefusal(cluster, await withProfile(profile));
  const update = 'az aks update --resource-group rg-archetype --name aks-archetype --network-policy';

  it('takes azure, calico and cilium as enforcing: the preview goes on', async () => {
    for (const engine of ['azure', 'calico', 'cilium']) {
      const found = await withProfile({ networkPolicy: engine });
      expect(found).toMatchObject({ engine, enforced: true });
      expect(isolationRefusal(cluster, found)).toBeUndefined();
    }
    const [get] = fake.requestsTo('GET', /managedClusters/);
    expect(get?.path).toBe(clusterPath);
    expect(get?.query).toEqual({ 'api-version': aksApiVersion });
  });

  it('refuses a cluster whose networkPolicy is none or absent, with the command that enables one', async () => {
    for (const networkPolicy of ['none', undefined]) {
      const refusal = await refusalOf({ networkPolicy });
      expect(refusal).toContain(
        `AKS cluster 'aks-archetype' enforces no NetworkPolicy (networkProfile.networkPolicy is ${networkPolicy ? "'none'" : 'not set'})`,
      );
      expect(refusal).toContain(`${update} azure (or calico), which re-images every node pool at once`);
      expect(refusal).toContain('An engine installed outside AKS (self-managed Calico or Cilium)');
    }
    // the command fits the cluster's network: Calico on kubenet, Cilium on the Cilium data plane (which
    // enforces nothing without networkPolicy cilium), and none AKS could enable on a cluster's own CNI
    expect(await refusalOf({ networkPlugin: 'kubenet' })).toContain(`${update} calico,`);
    expect(await refusalOf({ networkPolicy: 'none', networkDataplane: 'cilium' })).toContain(
      `${update} cilium,`,
    );
    const byoCni = await refusalOf({ networkPlugin: 'none' });
    expect(byoCni).toContain('brings its own CNI (networkPlugin none)');
    expect(byoCni).not.toContain('az aks update');
  });

  it('names the role and the read it needs when the identity may not read the cluster (403)', async () => {
    const message = await rejectionOf(
      aksNetworkPolicy(cluster, credentialOf(outsider), { armEndpoint: fake.url }),
    );
    expect(message).toContain(`answered HTTP 403 to GET ${fake.url}${clusterPath}`);
    expect(message).toContain(`AuthorizationFailed: The client '${outsider}'`);
    expect(message).toContain('Microsoft.ContainerService/managedClusters/read');
    expect(message).toContain(
      `az role assignment create --assignee ${outsider} --role "Azure Kubernetes Service Cluster User Role" --scope ${clusterPath}`,
    );
    expect(message).toContain("or set input 'require-network-policy' to false");
  });

  it('names the inputs to check when the cluster is not there (404)', async () => {
    const message = await rejectionOf(
      aksNetworkPolicy({ ...cluster, clusterName: 'aks-typo' }, credentialOf(deployer), {
        armEndpoint: fake.url,
      }),
    );
    expect(message).toContain('answered HTTP 404');
    expect(message).toContain("check inputs 'cluster-name', 'resource-group' and 'azure-subscription-id'");
  });
});
