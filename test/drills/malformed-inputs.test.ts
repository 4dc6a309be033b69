import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { prunableKinds } from '../../src/kube/kinds.js';
import { get, testCluster } from '../helpers/cluster.js';
import { environmentState, newSha, tagCommits } from '../helpers/drills.js';
import { type ActionRun, localTargetInputs, runAction } from '../helpers/run-action.js';

// Drill: malformed inputs and manifests, generated, each run through dist/index.js as a runner runs it.
// Every case must end in a clear error that names the input or the file (or the object the server
// rejected), with no stack trace, and apply nothing: its namespace, fresh for each case, must not hold a
// single object afterwards. Hostile values (shell metacharacters in branch names, inputs, pull request
// numbers) must never be executed. Most cases fail before a build; the rest reuse an image tagged for them.

jest.setTimeout(900_000);

const cluster = testCluster();
const prefix = `drill-bad-${randomBytes(3).toString('hex')}`;
const repository = `drills-${randomBytes(3).toString('hex')}/archetype`;
const sha = newSha();
const pwned = join(tmpdir(), `pwned-${randomBytes(4).toString('hex')}`);
// $IFS instead of a space: shell expansion, command substitution and a command separator
const ifs = ['$', '{IFS}'].join('');
const hostile = `$(touch${ifs}${pwned})\`touch${ifs}${pwned}\`;touch ${pwned}`;

interface Case {
  name: string;
  inputs?: Record<string, string>;
  /** files of the manifests folder: k8s/ with these replaced or added (null removes one) */
  manifests?: Record<string, string | null> | (() => string);
  run?: { event?: string; ref?: string; sha?: string; payload?: object };
  /** what the error must say: the input or the file it names */
  error: RegExp;
}

// ---- the manifests, broken one way at a time ---------------------------------------------------------

const k8s = (file: string) => readFileSync(join('k8s', file), 'utf8');
const deployment = k8s('deployment.yaml');
const service = k8s('service.yaml');
const ingress = k8s('ingress.yaml');
const inDeployment = (from: string | RegExp, to: string) => {
  const edited = deployment.replace(from, to);
  if (edited === deployment)
    throw new Error(`the drill's edit ${String(from)} no longer applies to k8s/deployment.yaml`);
  return { 'deployment.yaml': edited };
};
const extra = (text: string) => ({ 'extra.yaml': text });
const configMap = (body: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n${body}`;

const manifestCases: Case[] = [
  {
    name: 'YAML: bad indentation',
    manifests: inDeployment('  replicas: 2', '   replicas: 2\n  x'),
    error: /deployment\.yaml:\d+/,
  },
  {
    name: 'YAML: a tab for indentation',
    manifests: inDeployment('  replicas: 2', '\treplicas: 2'),
    error: /deployment\.yaml:\d+/,
  },
  {
    name: 'YAML: unclosed quote',
    manifests: inDeployment('value: "8000"', 'value: "8000'),
    error: /deployment\.yaml:\d+/,
  },
  {
    name: 'YAML: a duplicate key',
    manifests: inDeployment('  replicas: 2', '  replicas: 2\n  replicas: 3'),
    error: /deployment\.yaml:\d+/,
  },
  { name: 'YAML: unclosed flow mapping', manifests: extra('a: {b: 1'), error: /extra\.yaml:\d+/ },
  {
    name: 'YAML: a document that is a list',
    manifests: extra('- a\n- b\n'),
    error: /extra\.yaml:\d+: a document must be a Kubernetes object/,
  },
  {
    name: 'YAML: a document that is a string',
    manifests: extra('just words\n'),
    error: /extra\.yaml:\d+: a document must be a Kubernetes object/,
  },
  {
    name: 'YAML: an alias bomb',
    manifests: () => aliasBomb(),
    error: /more\/bomb\.yaml:\d+: more than 100 aliases/,
  },
  { name: 'YAML: binary garbage', manifests: extra('\u0000\u0001\u0002\uFFFE'), error: /extra\.yaml/ },
  {
    name: 'missing kind',
    manifests: { 'service.yaml': service.replace('kind: Service\n', '') },
    error: /service\.yaml:\d+ .*kind is missing/,
  },
  {
    name: 'missing apiVersion',
    manifests: { 'service.yaml': service.replace('apiVersion: v1\n', '') },
    error: /service\.yaml:\d+ .*apiVersion is missing/,
  },
  {
    name: 'missing metadata.name',
    manifests: extra(configMap('data: {}\n').replace('  name: settings\n', '  labels: {}\n')),
    error: /extra\.yaml:\d+ .*metadata\.name is missing/,
  },
  {
    name: 'name not DNS-1123 (uppercase, underscore)',
    manifests: extra(configMap('').replace('settings', 'My_Settings')),
    error: /extra\.yaml:\d+ ConfigMap\/My_Settings: metadata\.name/,
  },
  {
    name: 'name not DNS-1123 (shell metacharacters)',
    manifests: extra(configMap('').replace('settings', '"a;rm -rf /"')),
    error: /extra\.yaml:\d+ .*metadata\.name/,
  },
  {
    name: 'name longer than 253 characters',
    manifests: extra(configMap('').replace('settings', 'a'.repeat(254))),
    error: /extra\.yaml:\d+ .*metadata\.name/,
  },
  {
    name: 'Service name not DNS-1035 (starts with a digit)',
    manifests: extra(service.replace('name: archetype\n', 'name: 1archetype\n')),
    error: /extra\.yaml:\d+ Service\/1archetype: metadata\.name/,
  },
  {
    name: 'wrong type: replicas a string',
    manifests: inDeployment('replicas: 2', 'replicas: two'),
    error: /deployment\.yaml:\d+ .*spec\.replicas/,
  },
  {
    name: 'wrong type: replicas negative',
    manifests: inDeployment('replicas: 2', 'replicas: -1'),
    error: /deployment\.yaml:\d+ .*spec\.replicas/,
  },
  {
    name: 'wrong type: containerPort a string',
    manifests: inDeployment('containerPort: 8000', 'containerPort: "8000x"'),
    error: /deployment\.yaml:\d+ .*containerPort/,
  },
  {
    name: 'wrong type: containerPort out of range',
    manifests: inDeployment('containerPort: 8000', 'containerPort: 70000'),
    error: /deployment\.yaml:\d+ .*containerPort/,
  },
  {
    name: 'wrong type: a label value a number',
    manifests: inDeployment(
      'app.kubernetes.io/component: api\n    app',
      'app.kubernetes.io/component: 1.5\n    app',
    ),
    error: /deployment\.yaml:\d+ .*metadata\.labels/,
  },
  {
    name: 'wrong type: labels a list',
    manifests: extra(configMap('').replace('  name: settings\n', '  name: settings\n  labels: [a, b]\n')),
    error: /extra\.yaml:\d+ .*metadata\.labels must be a mapping/,
  },
  {
    name: 'invalid label value',
    manifests: extra(
      configMap('').replace('  name: settings\n', '  name: settings\n  labels:\n    team: "a b;c"\n'),
    ),
    error: /extra\.yaml:\d+ .*not a valid label value/,
  },
  {
    name: 'selector does not match the pod labels',
    manifests: inDeployment(
      /matchLabels:\n(\s+)app\.kubernetes\.io\/name: archetype/,
      'matchLabels:\n$1app: other',
    ),
    error: /deployment\.yaml:\d+ .*selector/,
  },
  {
    name: 'Service targetPort names no container port',
    manifests: { 'service.yaml': service.replace('targetPort: http', 'targetPort: web') },
    error: /service\.yaml:\d+ .*'web'/,
  },
  {
    name: 'Ingress backend names a Service not in the set',
    manifests: { 'ingress.yaml': ingress.replace(/name: archetype\n(\s+)port/, 'name: nothing\n$1port') },
    error: /ingress\.yaml:\d+ .*backend service 'nothing'/,
  },
  {
    name: 'a Namespace object in the set',
    manifests: extra('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: elsewhere\n'),
    error: /extra\.yaml:\d+ Namespace\/elsewhere/,
  },
  {
    name: 'another namespace in metadata',
    manifests: extra(
      configMap('').replace('  name: settings\n', '  name: settings\n  namespace: kube-system\n'),
    ),
    error: /extra\.yaml:\d+ .*metadata\.namespace is 'kube-system'/,
  },
  {
    name: 'no container uses the image placeholder',
    manifests: inDeployment('image: archetype', 'image: nginx'),
    error: /image 'archetype'/,
  },
  {
    name: 'a Deployment defined twice',
    manifests: extra(deployment),
    error: /extra\.yaml:\d+ Deployment\/archetype: is defined twice/,
  },
  {
    name: 'no YAML files at all',
    manifests: {
      'deployment.yaml': null,
      'service.yaml': null,
      'ingress.yaml': null,
      'README.md': '# no manifests',
    },
    error: /input 'manifests': no \.yaml/,
  },
  {
    name: 'only empty documents',
    manifests: () => folder({ 'empty.yaml': '---\n---\n' }),
    error: /input 'manifests': the YAML files .* hold no objects/,
  },
  {
    name: 'huge document (20 MB ConfigMap)',
    manifests: () => folderWith({ 'huge.yaml': configMap(`data:\n  blob: "${'x'.repeat(20_000_000)}"\n`) }),
    error: /huge\.yaml:\d+ ConfigMap\/settings: is 19\.1 MiB as JSON/,
  },
  {
    name: 'document just over the limit (1.1 MB ConfigMap)',
    manifests: () => folderWith({ 'big.yaml': configMap(`data:\n  blob: "${'x'.repeat(1_100_000)}"\n`) }),
    error: /big\.yaml:\d+ ConfigMap\/settings: is 1\.0 MiB as JSON/,
  },
  {
    name: 'deeply nested document (20000 levels)',
    manifests: () =>
      folderWith({ 'deep.yaml': configMap(`data:\n  x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`) }),
    error: /deep\.yaml/,
  },
  {
    name: 'a million empty documents (4 MB of ---)',
    manifests: () => folder({ 'dashes.yaml': '---\n'.repeat(1_000_000) }),
    error: /input 'manifests': the YAML files .* hold no objects/,
  },
  {
    name: 'wrong type: annotations a list',
    manifests: extra(configMap('').replace('  name: settings\n', '  name: settings\n  annotations: [x]\n')),
    error: /extra\.yaml:\d+ .*metadata\.annotations must be a mapping/,
  },
  {
    name: 'wrong type: labels a string',
    manifests: extra(configMap('').replace('  name: settings\n', '  name: settings\n  labels: team=a\n')),
    error: /extra\.yaml:\d+ .*metadata\.labels must be a mapping/,
  },
  // these pass the local checks; the API server's dry-run of the whole set rejects them, naming the object
  {
    name: 'unknown kind',
    manifests: extra('apiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: frob\n'),
    error: /extra\.yaml:1 Frobnicator\/frob: Frobnicator in v1 is not served by this cluster/,
  },
  {
    name: 'unknown apiVersion',
    manifests: extra('apiVersion: archetype.example.com/v9\nkind: Widget\nmetadata:\n  name: w\n'),
    error:
      /extra\.yaml:1 Widget\/w: Widget in archetype\.example\.com\/v9 is not served by this cluster; check apiVersion/,
  },
  {
    name: 'unknown field (strict validation)',
    manifests: inDeployment('  replicas: 2', '  replicas: 2\n  replicaz: 3'),
    error: /deployment\.yaml:\d+ Deployment\/archetype.*replicaz/,
  },
  {
    name: 'wrong type the server finds: a quantity',
    manifests: inDeployment('cpu: 50m', 'cpu: lots'),
    error: /deployment\.yaml:\d+ Deployment\/archetype: .*quantities must match/,
  },
  {
    name: 'wrong type the server finds: env value a number',
    manifests: inDeployment('value: "8000"', 'value: 8000'),
    error: /deployment\.yaml:\d+ Deployment\/archetype.*value/,
  },
];

// ---- the inputs, one bad value at a time -------------------------------------------------------------

const inputCases: Case[] = [
  ...(
    [
      ['mode', 'deploy; rm -rf /'],
      ['app-name', 'Archetype'],
      ['app-name', 'a'.repeat(41)],
      ['app-name', hostile],
      ['registry', 'http://127.0.0.1:5000'],
      ['registry', '127.0.0.1:5000/some/path'],
      ['registry', ''],
      ['registry', `reg;${hostile}`],
      ['image-name', 'Archetype/UPPER'],
      ['image-name', '../../etc/passwd'],
      ['image-name', hostile],
      ['platforms', 'amd64'],
      ['platforms', ' , '],
      ['build-args', 'NOEQUALS'],
      ['build-args', '1BAD=x'],
      ['build-secret-files', `bad id=${hostile}`],
      ['cache', 'sometimes'],
      ['azure-cloud', 'Mars'],
      ['namespace', 'Prod_NS'],
      ['namespace', 'n'.repeat(64)],
      ['namespace', hostile],
      ['host', 'Archetype.Example.com'],
      ['host', 'exa mple.com'],
      ['preview-domain', '*.example.com'],
      ['preview-replicas', 'two'],
      ['preview-replicas', '0'],
      ['preview-replicas', '11'],
      ['preview-ttl', 'forever'],
      ['rollout-timeout', '-5m'],
      ['rollout-timeout', '5 minutes'],
      ['rollback-on-failure', 'yes'],
      ['force-conflicts', 'maybe'],
      ['wait-for-ingress', '1'],
      ['rebuild', 'sure'],
      ['admin-credentials', 'y'],
      ['environment', 'staging'],
      ['rollback-target', 'not a tag!'],
      ['preflight', 'ignore'],
      ['failure-grace', 'never'],
      ['failure-grace', '0 observations'],
      ['smoke-path', 'healthz'],
      ['smoke-path', `/x ${hostile}`],
    ] as const
  ).map(
    ([name, value]): Case => ({
      name: `input ${name}: ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`,
      inputs: { [name]: value },
      error: new RegExp(`input '${name}'`),
    }),
  ),
  {
    name: 'input registry-username without a password',
    inputs: { 'registry-password': '' },
    error: /input 'registry-password'/,
  },
  {
    name: 'input kubeconfig and cluster-name both',
    inputs: { 'cluster-name': 'aks', 'resource-group': 'rg' },
    error: /input 'kubeconfig'/,
  },
  { name: 'no cluster at all', inputs: { kubeconfig: '' }, error: /input 'kubeconfig'/ },
  {
    name: 'AKS inputs half given',
    inputs: { kubeconfig: '', 'resource-group': 'rg' },
    error: /input 'cluster-name'/,
  },
  {
    name: 'input kubeconfig not YAML',
    inputs: { kubeconfig: 'apiVersion: v1\nclusters: [\n' },
    error: /input 'kubeconfig'/,
  },
  {
    name: 'input kubeconfig without a current context',
    inputs: { kubeconfig: 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n' },
    error: /input 'kubeconfig'/,
  },
  {
    name: 'input manifests: a folder that does not exist',
    inputs: { manifests: '/nonexistent/k8s' },
    error: /input 'manifests'/,
  },
  { name: 'input manifests: empty', inputs: { manifests: '' }, error: /input 'manifests'/ },
  {
    name: 'input manifests: a file, not a folder',
    inputs: { manifests: 'k8s/deployment.yaml' },
    error: /input 'manifests'/,
  },
];

// ---- hostile events ----------------------------------------------------------------------------------

const eventCases: Case[] = [
  {
    name: 'a hostile branch name, and a bad input',
    inputs: { namespace: 'Bad NS' },
    run: { ref: `refs/heads/${hostile}` },
    error: /input 'namespace'/,
  },
  { name: 'a hostile commit sha', run: { sha: hostile }, error: /commit sha .* is not a git sha/ },
  {
    name: 'a pull request number that is not a number',
    run: { event: 'pull_request', payload: pullRequest(`7${hostile}`, 'feature') },
    inputs: { 'preview-domain': 'preview.localhost' },
    // GitHub sends a number; whatever else comes ends in a clear refusal before anything is applied
    error: /-pr-7\$\(touch.* is not a valid label value/,
  },
  {
    name: 'a pull request whose head sha is hostile',
    run: { event: 'pull_request', payload: pullRequest(7, 'feature', hostile) },
    inputs: { 'preview-domain': 'preview.localhost' },
    error: /commit sha .* is not a git sha/,
  },
  {
    name: 'an event the action has no job for',
    run: { event: `issue_comment;${hostile}` },
    error: /event '.*' has no default job; set input mode/,
  },
];

function pullRequest(number: number | string, ref: string, head = sha) {
  return {
    action: 'opened',
    number,
    pull_request: { number, head: { sha: head, ref, repo: { full_name: 'local/archetype' } } },
    repository: { full_name: 'local/archetype', default_branch: 'main' },
  };
}

// ---- running them ------------------------------------------------------------------------------------

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bad-manifests-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** k8s/ plus these files. */
function folderWith(files: Record<string, string | null>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bad-manifests-'));
  cpSync('k8s', dir, { recursive: true });
  for (const [name, text] of Object.entries(files))
    if (text === null) rmSync(join(dir, name));
    else writeFileSync(join(dir, name), text);
  return dir;
}

function aliasBomb(): string {
  const lines = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: bomb',
    'data:',
    '  a0: &a0 "lol"',
  ];
  for (let i = 1; i < 12; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  const dir = folderWith({});
  mkdirSync(join(dir, 'more'));
  writeFileSync(join(dir, 'more', 'bomb.yaml'), `${lines.join('\n')}\n`);
  return dir;
}

const stackTrace = /^\s+at (?:.+ \()?(?:file:|node:|\/).+:\d+:\d+\)?$/m;

/** The objects of this action in the namespace; the namespace itself may be gone, or on its way out. */
async function objectsIn(namespace: string, existing = false): Promise<string[]> {
  const found: string[] = [];
  // a run that created the namespace for its lock deletes it again when it applied nothing
  const ns = await get<{ status?: { phase?: string } }>(cluster, `/api/v1/namespaces/${namespace}`);
  if (ns && !existing && ns.status?.phase !== 'Terminating')
    found.push(`Namespace/${namespace} (${ns.status?.phase})`);
  for (const { apiVersion, kind } of prunableKinds) {
    if (!(await cluster.resource(apiVersion, kind))) continue;
    const list = await get<{ items: KubernetesObject[] }>(
      cluster,
      `${await cluster.pathOf(apiVersion, kind, namespace)}?labelSelector=${encodeURIComponent('app.kubernetes.io/managed-by=archetype-deploy')}`,
    );
    // the release records (kube/release/release.ts) are the action's history, not the app: counted apart
    for (const item of list?.items ?? [])
      if (!item.metadata?.labels?.['archetype-deploy.github.io/release-of'])
        found.push(`${kind}/${item.metadata?.name}`);
  }
  return found;
}

const cases = [...manifestCases, ...inputCases, ...eventCases];
const outcomes: {
  name: string;
  code: number;
  error: string;
  named: boolean;
  trace: boolean;
  applied: string[];
  namespace?: string;
}[] = [];

// the bad manifests are deployed over a live environment, which must come out of each case untouched
const live = `${prefix}-live`;
let liveBefore: Awaited<ReturnType<typeof environmentState>>;
let liveRecords = '';

/** The release records in the namespace, as "name=outcome, …": a case that wrote one applied something. */
async function releaseRecords(namespace: string): Promise<string> {
  const list = await get<{ items: KubernetesObject[] }>(
    cluster,
    `/api/v1/namespaces/${namespace}/secrets?labelSelector=${encodeURIComponent('archetype-deploy.github.io/release-of')}`,
  );
  return (list?.items ?? [])
    .map((s) => `${s.metadata?.name}=${s.metadata?.labels?.['archetype-deploy.github.io/outcome']}`)
    .sort()
    .join(', ');
}

beforeAll(async () => {
  await tagCommits(repository, [sha]);
  const first = await runAction(
    { ...localTargetInputs(), mode: 'deploy', namespace: live, 'image-name': repository },
    { sha },
  );
  if (first.code !== 0) throw new Error(`the live environment could not be deployed: ${first.error}`);
  liveBefore = await environmentState(cluster, live);
  liveRecords = await releaseRecords(live);
});

/** What differs in the live environment from before the case: nothing, after every case. */
async function liveChanges(): Promise<string[]> {
  const now = await environmentState(cluster, live);
  const changes: string[] = [];
  if (now.deployment?.metadata?.generation !== liveBefore.deployment?.metadata?.generation)
    changes.push(
      `Deployment generation ${liveBefore.deployment?.metadata?.generation} -> ${now.deployment?.metadata?.generation}`,
    );
  if (JSON.stringify(now.shas) !== JSON.stringify(liveBefore.shas))
    changes.push(`commits ${JSON.stringify(now.shas)}`);
  if (now.available !== 2) changes.push(`${now.available} available`);
  const records = await releaseRecords(live);
  if (records !== liveRecords) changes.push(`release records ${liveRecords} -> ${records}`);
  const objects = (await objectsIn(live, true)).filter(
    (o) => !['Deployment/archetype', 'Service/archetype', 'Ingress/archetype'].includes(o),
  );
  return [...changes, ...objects];
}

afterAll(async () => {
  const namespaces = await get<{ items: KubernetesObject[] }>(cluster, '/api/v1/namespaces');
  for (const ns of namespaces?.items ?? [])
    if (ns.metadata?.name?.startsWith(prefix))
      await cluster.request('DELETE', `/api/v1/namespaces/${ns.metadata.name}`).catch(() => {});
  // the counts the issue asks for, in the test output
  const failed = outcomes.filter((o) => o.code === 0 || !o.named || o.trace);
  process.stdout.write(
    `malformed inputs drill: ${outcomes.length} cases, ${failed.length} without a clear error, ${outcomes.filter((o) => o.applied.length > 0).length} partial applies, ${outcomes.filter((o) => o.trace).length} stack traces\n`,
  );
});

it(`has at least 50 cases (${cases.length})`, () => {
  expect(cases.length).toBeGreaterThanOrEqual(50);
  expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
});

it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
  const namespace = c.manifests ? live : `${prefix}-${i}`;
  const manifests =
    typeof c.manifests === 'function' ? c.manifests() : c.manifests ? folderWith(c.manifests) : undefined;
  const inputs: Record<string, string> = {
    ...localTargetInputs(),
    mode: c.run?.event ? 'auto' : 'deploy',
    namespace,
    ...(c.manifests ? {} : { 'app-name': `${prefix}-${i}`.slice(0, 40) }),
    'image-name': repository,
    ...(manifests ? { manifests } : {}),
    ...c.inputs,
  };
  let payload: string | undefined;
  if (c.run?.payload) {
    payload = join(mkdtempSync(join(tmpdir(), 'event-')), 'event.json');
    writeFileSync(payload, JSON.stringify(c.run.payload));
  }
  const run: ActionRun = await runAction(inputs, {
    sha: c.run?.sha ?? sha,
    ...(c.run?.ref ? { ref: c.run.ref } : {}),
    ...(c.run?.event ? { event: c.run.event } : {}),
    ...(payload ? { payload } : {}),
  });
  const applied = [
    ...(c.manifests ? await liveChanges() : await objectsIn(namespace)),
    ...(await objectsIn(`${inputs['app-name'] ?? 'archetype'}-pr-7`)),
  ];
  outcomes.push({
    name: c.name,
    code: run.code,
    error: run.error,
    named: c.error.test(run.error),
    trace: stackTrace.test(run.log),
    applied,
  });
  if (manifests) rmSync(manifests, { recursive: true, force: true });

  expect(run.code).toBe(1);
  expect(run.error).toMatch(c.error);
  expect(run.log).not.toMatch(stackTrace);
  expect(run.log).not.toMatch(
    /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b|Unhandled|out of memory/,
  );
  expect(applied).toEqual([]);
  expect(existsSync(pwned)).toBe(false);
});
