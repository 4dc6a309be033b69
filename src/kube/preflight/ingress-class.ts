import type { KubernetesObject } from '@kubernetes/client-node';
import { type Finding, finding } from './findings.js';

// The write-up's third pain: an Ingress of class webapprouting.kubernetes.azure.com does nothing until the
// AKS application routing add-on that provides the class is enabled. The class must exist. Pure.

export interface IngressClass {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { controller?: string };
}

export interface AksCluster {
  resourceGroup: string;
  clusterName: string;
}

const defaultClassAnnotation = 'ingressclass.kubernetes.io/is-default-class';

/** Who provides the well-known classes, and how to get them. */
function provider(name: string, aks: AksCluster | undefined): string {
  const where = aks
    ? `--resource-group ${aks.resourceGroup} --name ${aks.clusterName}`
    : '--resource-group <resource-group> --name <cluster>';
  if (name === 'webapprouting.kubernetes.azure.com')
    return `; it is provided by the AKS application routing add-on: enable it with 'az aks approuting enable ${where}'`;
  if (name === 'azure-application-gateway')
    return `; it is provided by the AKS Application Gateway Ingress Controller add-on: 'az aks enable-addons --addons ingress-appgw ${where} --appgw-id <id>'`;
  if (name === 'nginx') return '; it is provided by the ingress-nginx controller: install it in the cluster';
  return '; install the ingress controller that provides it, or use a class that exists';
}

export function checkIngressClasses(
  ingresses: KubernetesObject[],
  classes: IngressClass[],
  aks?: AksCluster,
): Finding[] {
  const names = classes.map((c) => c.metadata?.name ?? '').filter(Boolean);
  const existing =
    names.length > 0 ? `the cluster has ${names.join(', ')}` : 'the cluster has no IngressClass at all';
  const findings: Finding[] = [];
  for (const ingress of ingresses) {
    const spec = (ingress as { spec?: { ingressClassName?: string } }).spec;
    const fromAnnotation = ingress.metadata?.annotations?.['kubernetes.io/ingress.class'];
    const name = spec?.ingressClassName ?? fromAnnotation;
    const what = `Ingress/${ingress.metadata?.name}`;
    if (!name) {
      const defaults = classes.filter((c) => c.metadata?.annotations?.[defaultClassAnnotation] === 'true');
      if (defaults.length === 0)
        findings.push(
          finding(
            'ingress class',
            `${what} names no ingress class and ${existing} but no default class, so no controller serves it; set spec.ingressClassName${names.length > 0 ? ` to one of ${names.join(', ')}` : ''}`,
          ),
        );
      continue;
    }
    if (names.includes(name)) continue;
    const field = spec?.ingressClassName
      ? 'spec.ingressClassName'
      : "annotation 'kubernetes.io/ingress.class'";
    findings.push(
      finding(
        'ingress class',
        `${what}: ${field} '${name}' is not an IngressClass in the cluster (${existing})${provider(name, aks)}`,
      ),
    );
  }
  return findings;
}

export const nginxAppRoutingClass = 'webapprouting.kubernetes.azure.com';

/**
 * The notice a set with an Ingress of AKS's NGINX-based application routing gets, once per deploy; undefined
 * without one. Not a failure: the add-on still serves, but gets no security fixes after November 2026.
 */
export function appRoutingNotice(objects: KubernetesObject[]): string | undefined {
  const ingresses = objects.filter(
    (o) =>
      o.kind === 'Ingress' &&
      ((o as { spec?: { ingressClassName?: string } }).spec?.ingressClassName ??
        o.metadata?.annotations?.['kubernetes.io/ingress.class']) === nginxAppRoutingClass,
  );
  if (ingresses.length === 0) return undefined;
  return (
    `${ingresses.map((i) => `Ingress/${i.metadata?.name}`).join(', ')} uses class ${nginxAppRoutingClass}, AKS's NGINX-based application routing, ` +
    'which is past its support window (security fixes ended November 2026). Its successor is the Gateway API mode of application routing ' +
    '(GatewayClass approuting-istio) with an HTTPRoute: docs/gateway-api.md gives the steps to move.'
  );
}
