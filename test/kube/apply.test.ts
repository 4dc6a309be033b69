import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('drift made with any kubectl command', () => {
  // kubectl as a person at a terminal runs it: the admin kubeconfig, each command's own field manager
  // (kubectl-set, kubectl-label, kubectl-annotate, kubectl-patch: each command's --field-manager default)
  const driftNs = namespaceName('t-drift');
  const driftOpts = { fieldManager, force: false, namespace: driftNs };
  const path = `/apis/apps/v1/namespaces/${driftNs}/deployments/drift`;
  const manifests = () => [deployment(driftNs, { name: 'drift', env: { GREETING: 'hello' } })];
  const kubectl = (...args: (string | Record<string, string>)[]) => {
    const binary = process.env.KUBECTL;
    if (!binary) throw new Error('KUBECTL not set: eval "$(scripts/local-stack env)"');
    const env = args.find((a) => typeof a === 'object') ?? {};
    const words = args.filter((a) => typeof a === 'string');
    execFileSync(binary, ['--kubeconfig', process.env.KUBECONFIG ?? '', '-n', driftNs, ...words], {
      stdio: 'pipe',
      timeout: 30_000,
      env: { ...process.env, ...env },
    });
  };
  const live = () => get<V1Deployment>(cluster, path);
  const env = async () =>
    Object.fromEntries(
      ((await live())?.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]),
    );

  afterAll(async () => {
    await deleteNamespace(cluster, driftNs);
  });

  it('removes what kubectl set, label, annotate and patch added, takes back what they changed, and names each', async () => {
    await applySet(cluster, manifests(), driftOpts);
    kubectl('set', 'env', 'deployment/drift', 'HAND_EDIT=1', 'GREETING=changed');
    kubectl('label', 'deployment/drift', 'hand=1');
    kubectl('annotate', 'deployment/drift', 'hand.example/note=by hand');
    kubectl('patch', 'deployment/drift', '--type=merge', '-p', '{"spec":{"minReadySeconds":7}}');
    const before = await live();
    expect(await env()).toEqual({ GREETING: 'changed', HAND_EDIT: '1' });
    const managers = (d?: V1Deployment) => (d?.metadata?.managedFields ?? []).map((m) => m.manager ?? '');
    expect(managers(before)).toEqual(
      expect.arrayContaining([
        fieldManager,
        'kubectl-set',
        'kubectl-label',
        'kubectl-annotate',
        'kubectl-patch',
      ]),
    );

    const result = await applySet(cluster, manifests(), driftOpts);
    expect(result.objects.map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual([
      'Deployment/drift:configured',
    ]);
    const after = await live();
    expect(await env()).toEqual({ GREETING: 'hello' });
    expect(after?.metadata?.labels?.hand).toBeUndefined();
    expect(after?.metadata?.annotations?.['hand.example/note']).toBeUndefined();
    expect(after?.spec?.minReadySeconds ?? 0).toBe(0);
    // the Deployment controller's own fields (revision annotation, status) stay its own
    expect(managers(after).filter((m) => m.startsWith('kubectl'))).toEqual([]);
    const named = result.takenOver.map((t) => `${t.field} (${t.manager})${t.removed ? ' removed' : ''}`);
    expect(named).toEqual(
      expect.arrayContaining([
        '.spec.template.spec.containers[name="app"].env[name="GREETING"].value (kubectl-set)',
        '.spec.template.spec.containers[name="app"].env[name="HAND_EDIT"] (kubectl-set) removed',
        '.metadata.labels.hand (kubectl-label) removed',
        '.metadata.annotations.hand.example/note (kubectl-annotate) removed',
        '.spec.minReadySeconds (kubectl-patch) removed',
      ]),
    );
    expect(result.takenOver.find((t) => t.field === '.spec.minReadySeconds')?.was).toBe(7);

    // adopted once: the next apply of the same manifests is unchanged and takes nothing
    const again = await applySet(cluster, manifests(), driftOpts);
    expect(again.objects.map((o) => o.action)).toEqual(['unchanged']);
    expect(again.takenOver).toEqual([]);
  });

  it("keeps kubectl apply's last-applied annotation kubectl's while removing what kubectl edit added", async () => {
    // kubectl edit, its editor a program that adds an argument and a last-applied-configuration annotation
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-edit-'));
    const editor = join(dir, 'edit.mjs');
    writeFileSync(
      editor,
      `import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[2];
const d = JSON.parse(readFileSync(file, 'utf8'));
d.metadata.annotations = { ...d.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}' };
d.spec.template.spec.containers[0].args = ['--edited'];
writeFileSync(file, JSON.stringify(d));
`,
    );
    kubectl('edit', 'deployment/drift', '-o', 'json', { KUBE_EDITOR: `${process.execPath} ${editor}` });
    expect((await live())?.spec?.template.spec?.containers[0]?.args).toEqual(['--edited']);
    const result = await applySet(cluster, manifests(), driftOpts);
    const after = await live();
    expect(after?.spec?.template.spec?.containers[0]?.args).toBeUndefined();
    expect(after?.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBe(
      '{"kind":"Deployment"}',
    );
    const edit = after?.metadata?.managedFields?.find((m) => m.manager === 'kubectl-edit');
    expect(edit?.fieldsV1).toEqual({
      'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
    });
    expect(result.takenOver.map((t) => `${t.field} (${t.manager})`)).toEqual([
      '.spec.template.spec.containers[name="app"].args (kubectl-edit)',
    ]);
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
