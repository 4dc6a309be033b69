import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { type Finding, finding } from './findings.js';

// The objects a pod template names must exist before its pods can start: a missing pull secret fails the
// pull, a missing Secret or ConfigMap (or key) leaves the container in CreateContainerConfigError or the pod
// in ContainerCreating, a missing ServiceAccount keeps the ReplicaSet from creating pods at all. Pure: the
// caller looks the names up in the set being applied and in the namespace.

export type ReferencedKind = 'Secret' | 'ConfigMap' | 'ServiceAccount';

export interface Reference {
  kind: ReferencedKind;
  name: string;
  /** a key the pod reads from the object's data */
  key?: string;
  optional: boolean;
  /** "imagePullSecrets", "container app env DB_URL", "volume config" */
  where: string;
  pull?: boolean;
}

/** What the namespace or the set holds under a name: its data keys and (Secrets) its type. */
export type Lookup = { found: false } | { found: true; keys: string[]; type?: string };

export function referencesOf(spec: V1PodSpec | undefined): Reference[] {
  const refs: Reference[] = [];
  const account = spec?.serviceAccountName ?? spec?.serviceAccount;
  if (account && account !== 'default')
    refs.push({ kind: 'ServiceAccount', name: account, optional: false, where: 'serviceAccountName' });
  for (const s of spec?.imagePullSecrets ?? [])
    if (s.name)
      refs.push({ kind: 'Secret', name: s.name, optional: false, where: 'imagePullSecrets', pull: true });
  const containers: V1Container[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      const where = `container ${c.name} env ${e.name}`;
      const s = e.valueFrom?.secretKeyRef;
      if (s?.name)
        refs.push({ kind: 'Secret', name: s.name, key: s.key, optional: s.optional === true, where });
      const m = e.valueFrom?.configMapKeyRef;
      if (m?.name)
        refs.push({ kind: 'ConfigMap', name: m.name, key: m.key, optional: m.optional === true, where });
    }
    for (const e of c.envFrom ?? []) {
      const where = `container ${c.name} envFrom`;
      if (e.secretRef?.name)
        refs.push({ kind: 'Secret', name: e.secretRef.name, optional: e.secretRef.optional === true, where });
      if (e.configMapRef?.name)
        refs.push({
          kind: 'ConfigMap',
          name: e.configMapRef.name,
          optional: e.configMapRef.optional === true,
          where,
        });
    }
  }
  for (const v of spec?.volumes ?? []) {
    const where = `volume ${v.name}`;
    const items = (list: { key: string }[] | undefined) => (list ?? []).map((i) => i.key);
    const add = (
      kind: ReferencedKind,
      name: string | undefined,
      keys: string[],
      optional: boolean | undefined,
    ) => {
      if (!name) return;
      if (keys.length === 0) refs.push({ kind, name, optional: optional === true, where });
      for (const key of keys) refs.push({ kind, name, key, optional: optional === true, where });
    };
    if (v.secret) add('Secret', v.secret.secretName, items(v.secret.items), v.secret.optional);
    if (v.configMap) add('ConfigMap', v.configMap.name, items(v.configMap.items), v.configMap.optional);
    for (const source of v.projected?.sources ?? []) {
      if (source.secret)
        add('Secret', source.secret.name, items(source.secret.items), source.secret.optional);
      if (source.configMap)
        add('ConfigMap', source.configMap.name, items(source.configMap.items), source.configMap.optional);
    }
  }
  return refs;
}

const pullSecretTypes = new Set(['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg']);

/**
 * Findings for one workload's references. `lookup` answers for the set and the namespace together, or
 * undefined when it could not tell (a read the credentials may not make): those are skipped.
 */
export function checkReferences(
  workload: string,
  namespace: string,
  refs: Reference[],
  lookup: (kind: ReferencedKind, name: string) => Lookup | undefined,
): Finding[] {
  const messages = new Set<string>();
  const nowhere = (kind: string, name: string) =>
    `${kind} '${name}', which is neither in namespace '${namespace}' nor in the manifests`;
  for (const ref of refs) {
    if (ref.optional) continue;
    const found = lookup(ref.kind, ref.name);
    if (!found) continue;
    if (!found.found) {
      if (ref.pull)
        messages.add(
          `${workload}: imagePullSecrets names ${nowhere('Secret', ref.name)}; its pods could not pull a private image; create the Secret (type kubernetes.io/dockerconfigjson), or for ACR on AKS remove it and attach the registry to the cluster ('az aks update --attach-acr <registry>')`,
        );
      else if (ref.kind === 'ServiceAccount')
        messages.add(
          `${workload}: serviceAccountName names ${nowhere('ServiceAccount', ref.name)}; the ReplicaSet could not create any pod; add the ServiceAccount to the manifests`,
        );
      else
        messages.add(
          `${workload}: ${ref.where} refers to ${nowhere(ref.kind, ref.name)}; its pods would not start (${ref.where.startsWith('volume') ? 'FailedMount' : 'CreateContainerConfigError'}); add it to the manifests or create it, or mark the reference optional: true`,
        );
      continue;
    }
    if (ref.pull && found.type && !pullSecretTypes.has(found.type))
      messages.add(
        `${workload}: imagePullSecrets names Secret '${ref.name}' of type ${found.type}; the kubelet only uses kubernetes.io/dockerconfigjson pull secrets; recreate it with 'kubectl create secret docker-registry'`,
      );
    if (ref.key !== undefined && !found.keys.includes(ref.key))
      messages.add(
        `${workload}: ${ref.where} refers to key '${ref.key}' of ${ref.kind} '${ref.name}', which has ${found.keys.length > 0 ? `only ${found.keys.join(', ')}` : 'no keys'}; its pods would not start (CreateContainerConfigError); fix the key or add it to the ${ref.kind}`,
      );
  }
  return [...messages].map((m) => finding('references', m));
}
