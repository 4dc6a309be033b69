import { dnsLabel, dnsSubdomain, type Inputs } from './inputs.js';

/** Where the manifests go and how the app is reached there, production's and the previews'. */
export interface TargetSettings {
  manifests: string;
  /** input helm-values: values files for a Helm chart in manifests, in order */
  helmValues: string[];
  namespace: string;
  host: string;
  previewDomain: string;
  /** input smoke-path: what the smoke check GETs */
  smokePath: string;
  /** namespace of the ingress controller: the one source of outside traffic a preview's NetworkPolicy admits */
  ingressNamespace: string;
  /** input gateway (namespace/name): the shared Gateway every HTTPRoute attaches to; absent keeps the manifests' */
  gateway?: { namespace: string; name: string };
  previewReplicas: number;
  /** at most this many preview namespaces of the app at once */
  maxPreviews: number;
}

// Leaves room for "-pr-<number>" in preview namespaces (63 characters at most).
const maxAppName = 40;

export function readAppName(inputs: Inputs): string {
  const appName = inputs.text('app-name');
  if (!dnsLabel.test(appName) || appName.length > maxAppName)
    inputs.fail(
      'app-name',
      `'${appName}' must be lowercase letters, digits and '-', start and end alphanumeric, at most ${maxAppName} characters`,
    );
  return appName;
}

export function readTarget(inputs: Inputs): TargetSettings {
  const manifests = inputs.text('manifests');
  if (!manifests) inputs.fail('manifests', 'is required, e.g. k8s');
  const namespace = inputs.text('namespace');
  if (!dnsLabel.test(namespace) || namespace.length > 63)
    inputs.fail(
      'namespace',
      `'${namespace}' is not a DNS-1123 label (lowercase letters, digits, '-', at most 63)`,
    );
  const host = inputs.text('host');
  if (host && !dnsSubdomain.test(host))
    inputs.fail('host', `'${host}' is not a lowercase DNS name like archetype.example.com`);
  const previewDomain = inputs.text('preview-domain');
  if (previewDomain && !dnsSubdomain.test(previewDomain))
    inputs.fail('preview-domain', `'${previewDomain}' is not a lowercase DNS name like preview.example.com`);
  const smokePath = inputs.text('smoke-path') || '/';
  if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(smokePath))
    inputs.fail(
      'smoke-path',
      `'${smokePath}' is not a URL path: start it with / and use no spaces, e.g. /healthz`,
    );
  const ingressNamespace = inputs.text('ingress-namespace');
  if (!dnsLabel.test(ingressNamespace) || ingressNamespace.length > 63)
    inputs.fail(
      'ingress-namespace',
      `'${ingressNamespace}' is not a namespace name, e.g. app-routing-system`,
    );
  const gateway = readGateway(inputs);
  return {
    manifests,
    namespace,
    host,
    previewDomain,
    smokePath,
    ingressNamespace,
    ...(gateway ? { gateway } : {}),
    previewReplicas: inputs.count('preview-replicas', 1, 10),
    maxPreviews: inputs.count('max-previews', 1, 1000),
    helmValues: inputs.list('helm-values', /[\n,]/),
  };
}

/** Input gateway: 'namespace/name' of a Gateway, or empty. */
export function readGateway(inputs: Inputs): { namespace: string; name: string } | undefined {
  const value = inputs.text('gateway');
  if (!value) return undefined;
  const [namespace = '', name = '', ...rest] = value.split('/');
  if (rest.length > 0 || !dnsLabel.test(namespace) || namespace.length > 63 || !dnsSubdomain.test(name))
    inputs.fail('gateway', `'${value}' is not namespace/name of a Gateway, e.g. gateway-system/shared`);
  return { namespace, name };
}
