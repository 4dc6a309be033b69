import { getSettings } from '../../src/settings.js';
import { readerFor } from '../helpers/action-inputs.js';

const minimal = { registry: '127.0.0.1:5000', kubeconfig: 'apiVersion: v1\nkind: Config\n' };

function errorOf(values: Record<string, string>): string {
  try {
    getSettings(readerFor(values));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected getSettings to throw');
}

describe('getSettings', () => {
  it('reads action.yml defaults into typed settings', () => {
    const s = getSettings(readerFor(minimal));
    expect(s.mode).toBe('auto');
    expect(s.appName).toBe('archetype');
    expect(s.registry).toEqual({ kind: 'basic', host: '127.0.0.1:5000', username: '', password: '' });
    expect(s.image).toEqual({
      name: 'archetype',
      previewName: 'archetype-preview',
      context: 'service',
      dockerfile: 'service/Dockerfile',
      platforms: ['linux/amd64'],
      buildArgs: {},
      secretFiles: {},
      rebuild: false,
      cache: 'auto',
    });
    expect(s.cluster).toEqual({ kind: 'kubeconfig', kubeconfig: minimal.kubeconfig });
    expect(s.manifests).toBe('k8s');
    expect(s.namespace).toBe('archetype');
    expect(s.rolloutTimeoutMs).toBe(300_000);
    expect(s.previewTtlMs).toBe(7 * 86_400_000);
    expect(s.rollbackOnFailure).toBe(true);
    expect(s.environment).toEqual({ kind: 'production' });
    expect(s.rollbackTarget).toEqual({ kind: 'previous' });
    expect(s.preflight).toBe('error');
  });

  it("reads strategy canary with action.yml's defaults, and names each bad canary input", () => {
    expect(getSettings(readerFor(minimal)).strategy).toEqual({ kind: 'rolling' });
    expect(getSettings(readerFor({ ...minimal, strategy: 'canary' })).strategy).toEqual({
      kind: 'canary',
      canary: {
        steps: [10, 50, 100],
        stepMs: 30_000,
        pause: false,
        maxErrorIncrease: 0.01,
        maxLatencyRatio: 1.5,
        latencyFloorMs: 100,
        minRequests: 50,
      },
    });
    const message = errorOf({
      ...minimal,
      strategy: 'canary',
      'canary-steps': '50,10',
      'canary-max-latency-ratio': '0.5',
      'canary-min-requests': '3',
    });
    expect(message).toContain("input 'canary-steps': '50,10' must rise at every step");
    expect(message).toContain("input 'canary-max-latency-ratio': '0.5' is not a ratio of at least 1");
    expect(message).toContain("input 'canary-min-requests': '3' must be a whole number from 10 to 100000");
    // a pause needs a step below 100 % to stop at
    expect(
      errorOf({ ...minimal, strategy: 'canary', 'canary-steps': '100', 'canary-pause': 'true' }),
    ).toContain("input 'canary-steps': '100' has no step below 100 % for canary-pause to stop at");
    expect(
      getSettings(readerFor({ ...minimal, strategy: 'canary', 'canary-pause': 'true' })).strategy,
    ).toMatchObject({ canary: { pause: true, steps: [10, 50, 100] } });
    expect(errorOf({ ...minimal, strategy: 'blue-green' })).toContain(
      "input 'strategy': 'blue-green' is not one of rolling, canary",
    );
  });

  it('treats *.azurecr.io without a username as ACR with Entra ID credentials', () => {
    const s = getSettings(readerFor({ ...minimal, registry: 'MyAcr.azurecr.io' }));
    expect(s.registry).toEqual({ kind: 'acr', host: 'myacr.azurecr.io' });
  });

  it("follows the sovereign cloud: its endpoints and OIDC audience, and a registry of that cloud's", () => {
    const gov = getSettings(
      readerFor({ ...minimal, registry: 'gov.azurecr.us', 'azure-cloud': 'AzureUSGovernment' }),
    );
    expect(gov.azure.endpoints).toEqual({
      authorityHost: 'https://login.microsoftonline.us',
      armEndpoint: 'https://management.usgovcloudapi.net',
    });
    expect(gov.azure.oidcAudience).toBe('api://AzureADTokenExchangeUSGov');
    expect(getSettings(readerFor(minimal)).azure.oidcAudience).toBe('api://AzureADTokenExchange');
    expect(errorOf({ ...minimal, registry: 'cn.azurecr.cn' })).toContain(
      "input 'registry': 'cn.azurecr.cn' is a registry of AzureChinaCloud (.azurecr.cn) but input 'azure-cloud' is AzureCloud; set azure-cloud to AzureChinaCloud",
    );
    const stack = getSettings(
      readerFor({
        ...minimal,
        'azure-authority-host': 'https://login.stack.example/',
        'azure-resource-manager-endpoint': 'https://management.stack.example',
        'azure-oidc-audience': 'api://custom',
      }),
    );
    expect(stack.azure.endpoints).toEqual({
      authorityHost: 'https://login.stack.example',
      armEndpoint: 'https://management.stack.example',
    });
    expect(stack.azure.oidcAudience).toBe('api://custom');
    expect(errorOf({ ...minimal, 'azure-authority-host': 'http://login.example' })).toContain(
      "input 'azure-authority-host': 'http://login.example' is not an https URL",
    );
  });

  it('reads AKS coordinates when no kubeconfig is given', () => {
    const s = getSettings(
      readerFor({
        registry: 'x.azurecr.io',
        'azure-subscription-id': 'sub',
        'resource-group': 'rg',
        'cluster-name': 'aks1',
        'admin-credentials': 'true',
      }),
    );
    expect(s.cluster).toEqual({
      kind: 'aks',
      subscriptionId: 'sub',
      resourceGroup: 'rg',
      clusterName: 'aks1',
      admin: true,
      publicFqdn: false,
    });
  });

  it('parses build args, platforms, environment and rollback target', () => {
    const s = getSettings(
      readerFor({
        ...minimal,
        'build-args': 'NODE_IMAGE=archetype/node-base:24\n\nA=b=c\n',
        platforms: 'linux/amd64, linux/arm64',
        environment: 'pr-7',
        'rollback-target': '3',
      }),
    );
    expect(s.image.buildArgs).toEqual({ NODE_IMAGE: 'archetype/node-base:24', A: 'b=c' });
    expect(s.image.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(s.environment).toEqual({ kind: 'preview', pr: 7 });
    expect(s.rollbackTarget).toEqual({ kind: 'revision', revision: 3 });
    expect(getSettings(readerFor({ ...minimal, 'rollback-target': 'abc123f' })).rollbackTarget).toEqual({
      kind: 'image',
      ref: 'abc123f',
    });
  });

  it.each([
    [{ registry: '' }, "input 'registry': is required"],
    [{ registry: 'https://x.azurecr.io' }, "input 'registry': 'https://x.azurecr.io' is not a registry host"],
    [{ 'app-name': 'Archetype_App' }, "input 'app-name': 'Archetype_App' must be lowercase"],
    [{ platforms: 'linux' }, "input 'platforms': 'linux' is not os/arch"],
    [{ 'build-args': 'NOEQUALS' }, "input 'build-args': line 1 'NOEQUALS' is not KEY=VALUE"],
    [{ 'rollout-timeout': 'soon' }, "input 'rollout-timeout': 'soon' is not a duration"],
    [{ 'rollback-on-failure': 'yes' }, "input 'rollback-on-failure': 'yes' is not a boolean"],
    [{ namespace: 'Prod' }, "input 'namespace': 'Prod' is not a DNS-1123 label"],
    [{ host: 'bad host' }, "input 'host': 'bad host' is not a lowercase DNS name"],
    [{ 'preview-replicas': '0' }, "input 'preview-replicas': '0' must be a whole number"],
    [
      { environment: 'staging' },
      "input 'environment': 'staging' is neither production nor a pull request number",
    ],
    [{ 'rollback-target': '$(rm -rf /)' }, "input 'rollback-target': '$(rm -rf /)' is not previous"],
    [{ mode: 'destroy' }, "input 'mode': 'destroy' is not one of auto, deploy"],
    [
      { 'registry-username': 'u' },
      "input 'registry-password': registry-username and registry-password go together",
    ],
    [{ kubeconfig: '' }, "input 'kubeconfig': no cluster given"],
    [{ kubeconfig: '', 'resource-group': 'rg' }, "input 'azure-subscription-id': is required for AKS"],
    [{ 'cluster-name': 'c' }, "input 'kubeconfig': is set together with resource-group/cluster-name"],
  ])('rejects %j naming the input', (values, message) => {
    expect(errorOf({ ...minimal, ...values })).toContain(message);
  });

  it('lists every bad input at once', () => {
    const message = errorOf({ ...minimal, namespace: 'A', preflight: 'maybe' });
    expect(message).toMatch(/^Invalid inputs:\n- input 'namespace'.*\n- input 'preflight'/s);
  });
});
