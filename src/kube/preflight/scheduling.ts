import type { V1Node, V1NodeSelectorTerm, V1PodSpec, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { requirementMatches } from '../manifests/selector.js';

// Which nodes a pod may be scheduled to, by the scheduler's filters that do not depend on other pods:
// NodeUnschedulable, NodeName, nodeSelector + required node affinity (NodeAffinity), and NoSchedule/NoExecute
// taints against the pod's tolerations (TaintToleration). Pure.

export interface Eligibility {
  node: V1Node;
  /** why the pod cannot go there; undefined when it can */
  excluded?: string;
}

export function eligibility(spec: V1PodSpec | undefined, nodes: V1Node[]): Eligibility[] {
  return nodes.map((node) => {
    const excluded = whyExcluded(spec, node);
    return excluded ? { node, excluded } : { node };
  });
}

export function eligibleNodes(spec: V1PodSpec | undefined, nodes: V1Node[]): V1Node[] {
  return eligibility(spec, nodes)
    .filter((e) => !e.excluded)
    .map((e) => e.node);
}

function whyExcluded(spec: V1PodSpec | undefined, node: V1Node): string | undefined {
  const name = node.metadata?.name ?? '';
  const labels = node.metadata?.labels ?? {};
  if (spec?.nodeName && spec.nodeName !== name) return `spec.nodeName is ${spec.nodeName}`;
  for (const [key, value] of Object.entries(spec?.nodeSelector ?? {}))
    if (labels[key] !== value)
      return `nodeSelector ${key}=${value} does not match (${labels[key] === undefined ? 'no such label' : `${key}=${labels[key]}`})`;
  const terms =
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0 && !terms.some((t) => termMatches(t, node)))
    return 'required node affinity does not match';
  const tolerations = spec?.tolerations ?? [];
  if (node.spec?.unschedulable) {
    const taint: V1Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    if (!tolerations.some((t) => tolerates(t, taint))) return 'cordoned (spec.unschedulable)';
  }
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerations.some((t) => tolerates(t, taint)))
      return `taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect} not tolerated`;
  }
  return undefined;
}

function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // an empty term matches no node (k8s.io/component-helpers nodeaffinity)
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return (
    expressions.every((e) => requirementMatches(e, labels[e.key])) &&
    fields.every((f) => requirementMatches(f, f.key === 'metadata.name' ? node.metadata?.name : undefined))
  );
}

/** k8s.io/api core/v1 Toleration.ToleratesTaint */
export function tolerates(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export interface NodePlatform {
  os: string;
  architecture: string;
}

/** The node's platform from its well-known labels, else from what its kubelet reports. */
export function nodePlatform(node: V1Node): NodePlatform | undefined {
  const labels = node.metadata?.labels ?? {};
  const os = labels['kubernetes.io/os'] ?? node.status?.nodeInfo?.operatingSystem;
  const architecture = labels['kubernetes.io/arch'] ?? node.status?.nodeInfo?.architecture;
  return os && architecture ? { os, architecture } : undefined;
}

/** At most `limit` names, then "and N more". */
export function nameList(names: string[], limit = 5): string {
  if (names.length <= limit) return names.join(', ');
  return `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}
