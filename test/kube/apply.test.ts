import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1Service,
} from '@kubernetes/client-node';
import { applySet, prune } from '../../src/kube/apply/apply.js';
import {
  configMap,
  deleteNamespace,
  deployment,
  eventually,
  fieldManager,
  get,
  ingress,
  namespaceName,
  service,
  serviceAccount,
  testCluster,
} from '../helpers/cluster.js';

// Server-side apply against the real local control plane (scripts/local-stack).

const cluster = testCluster();
const ns = namespaceName('t-apply');
const opts = { fieldManager, force: false, namespace: ns };
const deployPath = `/apis/apps/v1/namespaces/${ns}/deployments/archetype`;

const set = (image = '127.0.0.1:5000/archetype:v1'): KubernetesObject[] => [
  // out of order on purpose: applySet orders them
  ingress(ns),
  deployment(ns, { image }),
  service(ns),
  configMap(ns, 'archetype-config', { GREETING: 'hello' }),
  serviceAccount(ns),
];

const revision = async () =>
  Number(
    (await get<V1Deployment>(cluster, deployPath))?.metadata?.annotations?.[
      'deployment.kubernetes.io/revision'
    ] ?? 0,
  );

afterAll(async () => {
  await deleteNamespace(cluster, ns);
});

describe('applySet', () => {
  it('creates the namespace and every object, in dependency order', async () => {
    const result = await applySet(cluster, set(), opts);
    expect(result.namespaceCreated).toBe(true);
    expect(result.objects.map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual([
      'ServiceAccount/archetype:created',
      'ConfigMap/archetype-config:created',
      'Service/archetype:created',
      'Deployment/archetype:created',
      'Ingress/archetype:created',
    ]);
    const namespace = await get<V1Namespace>(cluster, `/api/v1/namespaces/${ns}`);
    expect(namespace?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('archetype-deploy');
    expect(
      (await get<V1Service>(cluster, `/api/v1/namespaces/${ns}/services/archetype`))?.spec?.ports?.[0]?.port,
    ).toBe(80);
    expect(await eventually('revision 1', async () => (await revision()) === 1 || undefined)).toBe(true);
  });

  it('reports an identical set as unchanged and writes nothing (no new revision)', async () => {
    const before = await get<V1Deployment>(cluster, deployPath);
    const versions = new Map<string, string | undefined>();
    for (const kind of ['services', 'configmaps', 'serviceaccounts']) {
      const name = kind === 'configmaps' ? 'archetype-config' : 'archetype';
      const path = `/api/v1/namespaces/${ns}/${kind}/${name}`;
      versions.set(path, (await get<V1Service>(cluster, path))?.metadata?.resourceVersion);
    }
    const result = await applySet(cluster, set(), opts);
    expect(result.objects.map((o) => o.action)).toEqual(Array(5).fill('unchanged'));
    const after = await get<V1Deployment>(cluster, deployPath);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    // no write by our field manager (status updates by the controller may still bump resourceVersion)
    const applied = (d?: V1Deployment) =>
      d?.metadata?.managedFields?.find((m) => m.manager === 'archetype-deploy' && m.operation === 'Apply');
    expect(String(applied(after)?.time)).toBe(String(applied(before)?.time));
    for (const kind of ['services', 'configmaps', 'serviceaccounts']) {
      const name = kind === 'configmaps' ? 'archetype-config' : 'archetype';
      const path = `/api/v1/namespaces/${ns}/${kind}/${name}`;
      expect((await get<V1Service>(cluster, path))?.metadata?.resourceVersion).toBe(versions.get(path));
    }
    expect(await revision()).toBe(1);
  });

  it('configures a changed image, and the Deployment gets revision 2', async () => {
    const result = await applySet(cluster, set('127.0.0.1:5000/archetype:v2'), opts);
    expect(
      result.objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}:${o.action}`),
    ).toEqual(['Deployment:configured']);
    expect(await eventually('revision 2', async () => (await revision()) === 2 || undefined)).toBe(true);
    expect((await get<V1Deployment>(cluster, deployPath))?.spec?.template?.spec?.containers?.[0]?.image).toBe(
      '127.0.0.1:5000/archetype:v2',
    );
  });

  it('applies nothing when one object of the set is invalid, naming it and the server message', async () => {
    const bad = service(ns, 'broken', 'archetype', 70000);
    const changed = [
      configMap(ns, 'archetype-config', { GREETING: 'changed' }),
      configMap(ns, 'brand-new', { A: 'b' }),
      bad,
      deployment(ns, { image: '127.0.0.1:5000/archetype:v3' }),
    ];
    await expect(applySet(cluster, changed, opts)).rejects.toThrow(
      /nothing was applied[\s\S]*Service\/broken: rejected by the API server: spec\.ports\[0\]\.port: Invalid value: 70000/,
    );
    const configMaps = await cluster.request<{ items: KubernetesObject[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/configmaps`,
    );
    expect(configMaps.items.map((c) => c.metadata?.name).sort()).toEqual([
      'archetype-config',
      'kube-root-ca.crt',
    ]);
    expect(
      (await get<V1ConfigMap>(cluster, `/api/v1/namespaces/${ns}/configmaps/archetype-config`))?.data,
    ).toEqual({
      GREETING: 'hello',
    });
    const services = await cluster.request<{ items: KubernetesObject[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/services`,
    );
    expect(services.items.map((s) => s.metadata?.name)).toEqual(['archetype']);
    expect((await get<V1Deployment>(cluster, deployPath))?.spec?.template?.spec?.containers?.[0]?.image).toBe(
      '127.0.0.1:5000/archetype:v2',
    );
  });

  it('rejects a field the API does not know (strict validation), instead of dropping it', async () => {
    const typo = deployment(ns, { image: '127.0.0.1:5000/archetype:v3' }) as V1Deployment;
    Object.assign(typo.spec?.template.spec?.containers[0] ?? {}, { imagePullPolcy: 'Always' });
    await expect(applySet(cluster, [typo], opts)).rejects.toThrow(/Deployment\/archetype: .*imagePullPolcy/);
    expect((await get<V1Deployment>(cluster, deployPath))?.spec?.template?.spec?.containers?.[0]?.image).toBe(
      '127.0.0.1:5000/archetype:v2',
    );
  });

  it('leaves no namespace behind when the dry-run of a set for a new namespace fails', async () => {
    const other = namespaceName('t-apply-new');
    try {
      await expect(
        applySet(cluster, [service(other, 'broken', 'x', 0)], { ...opts, namespace: other }),
      ).rejects.toThrow(`namespace '${other}', created for this apply, was deleted again`);
      const left = await get<V1Namespace>(cluster, `/api/v1/namespaces/${other}`);
      expect(left === undefined || left.status?.phase === 'Terminating').toBe(true);
    } finally {
      await deleteNamespace(cluster, other);
    }
  });

  it('reports a conflict with another field manager by field and manager, and force takes it over', async () => {
    // another tool scales the Deployment: an update by another manager now owns spec.replicas
    await cluster.request('PATCH', deployPath, {
      query: { fieldManager: 'keda-operator' },
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 3 } },
    });
    const current = set('127.0.0.1:5000/archetype:v2');
    let message = '';
    await applySet(cluster, current, opts).catch((e: Error) => {
      message = e.message;
    });
    expect(message).toMatch(/Deployment\/archetype: 1 field\(s\) are owned by another field manager/);
    expect(message).toMatch(/\.spec\.replicas \(owned by "keda-operator" using apps\/v1/);
    expect(message).toContain("input 'force-conflicts'");
    expect((await get<V1Deployment>(cluster, deployPath))?.spec?.replicas).toBe(3);

    const forced = await applySet(cluster, current, { ...opts, force: true });
    expect(forced.objects.find((o) => o.kind === 'Deployment')?.action).toBe('configured');
    const live = await get<V1Deployment>(cluster, deployPath);
    expect(live?.spec?.replicas).toBe(2);
    const owners = (live?.metadata?.managedFields ?? [])
      .filter((m) => (m.fieldsV1 as { 'f:spec'?: { 'f:replicas'?: object } })?.['f:spec']?.['f:replicas'])
      .map((m) => m.manager);
    expect(owners).toEqual(['archetype-deploy']);
  });

  it("takes over kubectl's own managers without force, and says which fields from whom", async () => {
    // someone scales the Deployment by hand with kubectl
    await cluster.request('PATCH', deployPath, {
      query: { fieldManager: 'kubectl-scale' },
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 4 } },
    });
    const result = await applySet(cluster, set('127.0.0.1:5000/archetype:v2'), opts);
    expect(result.takenOver).toEqual([
      { kind: 'Deployment', name: 'archetype', field: '.spec.replicas', manager: 'kubectl-scale', was: 4 },
    ]);
    expect((await get<V1Deployment>(cluster, deployPath))?.spec?.replicas).toBe(2);
  });

  it('explains an immutable selector change instead of a raw 422, and changes nothing', async () => {
    const moved = deployment(ns, { image: '127.0.0.1:5000/archetype:v2', selector: { app: 'archetype-v2' } });
    const error = await applySet(cluster, [moved], opts).then(
      () => new Error('applySet succeeded'),
      (e: Error) => e,
    );
    expect(error.message).toContain(
      'Deployment/archetype: spec.selector is immutable on an existing Deployment',
    );
    expect(error.message).toContain('"app":"archetype-v2"');
    expect(error.message).toMatch(/keep the old selector .* or delete Deployment archetype in namespace/);
    expect((await get<V1Deployment>(cluster, deployPath))?.spec?.selector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'archetype',
    });
  });

  const job = (image: string, extra: Record<string, unknown> = {}): KubernetesObject =>
    ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: ns },
      spec: {
        backoffLimit: 0,
        ...extra,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image, args: ['migrate'] }] },
        },
      },
    }) as KubernetesObject;
  const jobPath = `/apis/batch/v1/namespaces/${ns}/jobs/migrate`;
  type Job = KubernetesObject & { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };

  it('replaces a Job whose pod template changed (immutable): the old run is deleted, a new one made', async () => {
    await applySet(cluster, [job('127.0.0.1:5000/archetype:v1')], opts);
    const first = await get<Job>(cluster, jobPath);
    const same = await applySet(cluster, [job('127.0.0.1:5000/archetype:v1')], opts);
    expect(same.objects.map((o) => o.action)).toEqual(['unchanged']);
    const result = await applySet(cluster, [job('127.0.0.1:5000/archetype:v2')], opts);
    expect(result.objects.map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual(['Job/migrate:replaced']);
    const second = await get<Job>(cluster, jobPath);
    expect(second?.metadata?.uid).not.toBe(first?.metadata?.uid);
    expect(second?.spec?.template?.spec?.containers?.[0]?.image).toBe('127.0.0.1:5000/archetype:v2');
  });

  it('a replacement the API server would refuse fails at the dry-run; the old Job stays', async () => {
    const before = await get<Job>(cluster, jobPath);
    const error = await applySet(
      cluster,
      [job('127.0.0.1:5000/archetype:v3', { backoffLimit: -1 })],
      opts,
    ).then(
      () => new Error('applySet succeeded'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/Server-side dry-run rejected 1 of 1 objects; nothing was applied/);
    expect(error.message).toContain('Job/migrate');
    expect(error.message).toContain('spec.backoffLimit');
    expect((await get<Job>(cluster, jobPath))?.metadata?.uid).toBe(before?.metadata?.uid);
  });

  it('staged: what the first stage selects is written before its run, the rest only after; a failed run writes no more', async () => {
    const seen: string[] = [];
    const first = configMap(ns, 'migrate-config', { STEP: '1' });
    const later = configMap(ns, 'after-config', { STEP: '1' });
    const select = (o: KubernetesObject) => o.metadata?.name === 'migrate-config';
    const error = await applySet(cluster, [later, first], {
      ...opts,
      firstStage: {
        select,
        run: async () => {
          seen.push(
            `first ${Boolean(await get(cluster, `/api/v1/namespaces/${ns}/configmaps/migrate-config`))}`,
          );
          seen.push(
            `later ${Boolean(await get(cluster, `/api/v1/namespaces/${ns}/configmaps/after-config`))}`,
          );
          throw new Error('the migration failed');
        },
      },
    }).then(
      () => new Error('applySet succeeded'),
      (e: Error) => e,
    );
    expect(error.message).toBe('the migration failed');
    expect(seen).toEqual(['first true', 'later false']);
    expect(await get(cluster, `/api/v1/namespaces/${ns}/configmaps/after-config`)).toBeUndefined();
    await applySet(cluster, [later, first], { ...opts, firstStage: { select, run: async () => undefined } });
    expect(await get(cluster, `/api/v1/namespaces/${ns}/configmaps/after-config`)).toBeDefined();
    for (const name of ['migrate-config', 'after-config'])
      await cluster.request('DELETE', `/api/v1/namespaces/${ns}/configmaps/${name}`);
  });
});

describe('prune', () => {
  it('deletes a labelled object dropped from the set, lists it, and leaves the rest alone', async () => {
    await applySet(cluster, [...set('127.0.0.1:5000/archetype:v2'), service(ns, 'archetype-old')], opts);
    // not ours: no managed-by label
    await cluster.request('POST', `/api/v1/namespaces/${ns}/services`, {
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'foreign' },
        spec: { ports: [{ port: 81 }] },
      },
    });
    const keep = set('127.0.0.1:5000/archetype:v2');
    const pruned = await prune(cluster, ns, 'archetype', keep);
    expect(pruned).toEqual([{ kind: 'Service', name: 'archetype-old', namespace: ns }]);
    expect(await get<V1Service>(cluster, `/api/v1/namespaces/${ns}/services/archetype-old`)).toBeUndefined();
    expect(await get<V1Service>(cluster, `/api/v1/namespaces/${ns}/services/foreign`)).toBeDefined();
    expect(await get<V1Service>(cluster, `/api/v1/namespaces/${ns}/services/archetype`)).toBeDefined();
    expect(await get<V1Deployment>(cluster, deployPath)).toBeDefined();
    expect(await prune(cluster, ns, 'archetype', keep)).toEqual([]);
  });
});
