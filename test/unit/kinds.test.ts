import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import {
  applyOrder,
  applyStage,
  isNamespaced,
  kinds,
  previewKinds,
  prunableKinds,
  trackedKinds,
} from '../../src/kube/kinds.js';
import { podTemplateOf } from '../../src/kube/manifests/render.js';

// The one table of kinds (src/kube/kinds.ts): every list the action keeps derives from it, so they agree.

describe('the table of kinds', () => {
  it('writes what admission and pods read at start before the workloads: RBAC, quotas, limits, config, claims', () => {
    for (const kind of [
      'RoleBinding',
      'ResourceQuota',
      'LimitRange',
      'ServiceAccount',
      'ConfigMap',
      'Secret',
      'PersistentVolumeClaim',
    ])
      expect([kind, applyStage(kind)]).toEqual([kind, 1]);
    for (const kind of ['Service', 'Deployment', 'StatefulSet', 'CronJob', 'Ingress', 'SomeCustomKind'])
      expect([kind, applyStage(kind)]).toEqual([kind, 2]);
    expect(applyStage('Namespace')).toBe(0);
    // fluxcd's order within a stage: services before workloads, workloads before autoscalers and routes
    expect(applyOrder('Service')).toBeLessThan(applyOrder('Deployment'));
    expect(applyOrder('Deployment')).toBeLessThan(applyOrder('HorizontalPodAutoscaler'));
    expect(applyOrder('HorizontalPodAutoscaler')).toBeLessThan(applyOrder('Ingress'));
    expect(applyOrder('Ingress')).toBeLessThan(applyOrder('SomeCustomKind'));
  });

  it("finds a CronJob's pod template in its jobTemplate, and every other workload's in spec.template", () => {
    const template = { spec: { containers: [{ name: 'a', image: 'archetype' }] } };
    expect(podTemplateOf({ kind: 'CronJob', spec: { jobTemplate: { spec: { template } } } })).toBe(template);
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'])
      expect(podTemplateOf({ kind, spec: { template } })).toBe(template);
    expect(podTemplateOf({ kind: 'ConfigMap', spec: { template } })).toBeUndefined();
  });

  it('prunes every kind the deployer role (and the production route role) may delete, except claims', () => {
    type Role = {
      kind: string;
      metadata: { name: string };
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const deployer = parse(
      readFileSync(new URL('../../rbac/deployer.yaml', import.meta.url), 'utf8'),
    ) as Role;
    const routes = parseAllDocuments(
      readFileSync(new URL('../../rbac/production.yaml', import.meta.url), 'utf8'),
    )
      .map((d) => d.toJS() as Role)
      .find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-routes'));
    const deletable = [...deployer.rules, ...(routes?.rules ?? [])]
      .filter((r) => r.verbs.includes('delete'))
      .flatMap((r) => r.resources.map((resource) => `${r.apiGroups[0]}/${resource}`))
      // the forced StatefulSet rollback deletes pods; the deploy lock is a Lease
      .filter((r) => !['/pods', 'coordination.k8s.io/leases'].includes(r));
    // the resource names of the kinds, as the API serves them
    const plural = (kind: string) => {
      const k = kind.toLowerCase();
      return k.endsWith('y') ? `${k.slice(0, -1)}ies` : k.endsWith('s') ? `${k}es` : `${k}s`;
    };
    const pruned = prunableKinds.map(({ apiVersion, kind }) => {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      return `${group}/${plural(kind)}`;
    });
    expect(pruned.length).toBeGreaterThan(0);
    expect([...pruned, '/persistentvolumeclaims'].sort()).toEqual([...deletable].sort());
  });

  it('tracks every workload that rolls out, and lets a preview hold no cluster-wide or node-wide kind', () => {
    expect([...trackedKinds].sort()).toEqual(['DaemonSet', 'Job', 'StatefulSet']);
    const allowed = Object.values(previewKinds()).flatMap((set) => [...set]);
    expect(allowed).toContain('CronJob');
    for (const kind of allowed) expect([kind, isNamespaced(kind)]).toEqual([kind, true]);
    expect(allowed).not.toContain('DaemonSet');
    expect(new Set(kinds.map((k) => k.kind)).size).toBe(kinds.length);
  });
});
