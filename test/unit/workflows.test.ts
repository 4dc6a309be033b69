import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { actionYaml } from '../helpers/action-inputs.js';

// The workflows in .github/workflows, checked without GitHub: each parses, every `uses: ./` step gives only
// inputs that action.yml declares (and every required one), each deploying workflow asks for the token
// permissions the action needs and serialises its environment, and no `run:` script interpolates text a
// pull request's author controls. (actionlint, where installed, checks the rest of the syntax.)

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  if?: string;
}
interface Workflow {
  name?: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<
    string,
    {
      'runs-on': string;
      steps: Step[];
      permissions?: Record<string, string>;
      'timeout-minutes'?: number;
      environment?: string | { name: string };
      if?: string;
      with?: Record<string, string>;
    }
  >;
}

const dir = new URL('../../.github/workflows/', import.meta.url);
const texts = Object.fromEntries(
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]),
);
const workflows = Object.fromEntries(
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => [f, parse(readFileSync(new URL(f, dir), 'utf8')) as Workflow]),
);
const usingAction = Object.entries(workflows).filter(([, w]) =>
  Object.values(w.jobs).some((j) => j.steps.some((s) => s.uses === './')),
);
/** A GitHub expression as it stands in a workflow, ${{ ... }} */
const expr = (inner: string) => `\${{ ${inner} }}`;
const actionSteps = (w: Workflow) =>
  Object.values(w.jobs).flatMap((j) => j.steps.filter((s) => s.uses === './'));

describe('workflows', () => {
  it('has the deploy, preview, preview-report, rollback and sweep workflows, each using the action', () => {
    expect(usingAction.map(([f]) => f).sort()).toEqual([
      'deploy.yml',
      'preview-report.yml',
      'preview.yml',
      'rollback.yml',
      'sweep.yml',
    ]);
  });

  it.each(Object.keys(workflows))('%s has triggers and jobs with steps', (file) => {
    const w = workflows[file] as Workflow;
    expect(Object.keys(w.on ?? {}).length).toBeGreaterThan(0);
    for (const job of Object.values(w.jobs)) {
      expect(job['runs-on']).toBeTruthy();
      expect(job.steps.length).toBeGreaterThan(0);
    }
  });

  it.each(usingAction.map(([f]) => f))('%s gives the action only inputs action.yml declares', (file) => {
    const required = Object.entries(actionYaml.inputs)
      .filter(([, spec]) => spec.required)
      .map(([name]) => name);
    for (const step of actionSteps(workflows[file] as Workflow)) {
      const given = Object.keys(step.with ?? {});
      expect(given.filter((name) => !(name in actionYaml.inputs))).toEqual([]);
      expect(required.filter((name) => !given.includes(name))).toEqual([]);
    }
  });

  it.each(usingAction.map(([f]) => f))(
    '%s grants the token what the action uses, and one run per environment',
    (file) => {
      const w = workflows[file] as Workflow;
      // the pull request's code gets no token that writes to GitHub: preview-report.yml publishes for it,
      // and the teardown job, which runs the default branch's action, asks for its own
      if (file === 'preview.yml') {
        expect(w.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
        expect(w.jobs.preview?.permissions).toBeUndefined();
        expect(actionSteps({ ...w, jobs: { p: w.jobs.preview } } as Workflow)[0]?.with).toMatchObject({
          'github-token': '',
          'report-file': `${expr('runner.temp')}/preview-report.json`,
        });
        expect(w.jobs.teardown?.permissions).toMatchObject({
          deployments: 'write',
          'pull-requests': 'write',
        });
      } else if (file === 'preview-report.yml')
        expect(w.permissions).toEqual({
          actions: 'read',
          contents: 'read',
          deployments: 'write',
          'pull-requests': 'write',
        });
      else {
        expect(w.permissions).toMatchObject({ 'id-token': 'write', contents: 'read', deployments: 'write' });
        if (file !== 'deploy.yml') expect(w.permissions?.['pull-requests']).toBe('write');
      }
      // a run never cancels a running one: a deploy stopped halfway is worse than a late one
      if (w.concurrency) expect(w.concurrency['cancel-in-progress']).toBe(false);
    },
  );

  // GitHub keeps at most one running and one pending run per concurrency group, and a newer pending run
  // cancels the older pending one ("Control the concurrency of workflows and jobs"). Only runs where the
  // newest may replace the older (pushes, sweeps) may queue in a group; the rest are serialized by the
  // environment's deploy lock in the cluster.
  it('never lets a dispatch or a close be dropped: rollbacks have no group, teardowns one of their own', () => {
    expect((workflows['rollback.yml'] as Workflow).concurrency).toBeUndefined();
    const preview = (workflows['preview.yml'] as Workflow).concurrency?.group ?? '';
    const groupOf = (action: string) =>
      preview
        .replace(
          expr("github.event.action == 'closed' && 'teardown' || 'deploy'"),
          action === 'closed' ? 'teardown' : 'deploy',
        )
        .replace(expr('github.event.pull_request.number'), '7');
    expect(groupOf('synchronize')).toBe('deploy-pr-7');
    expect(groupOf('closed')).toBe('teardown-pr-7');
    expect((workflows['deploy.yml'] as Workflow).concurrency?.group).toBe('deploy-production');
    // no workflow with a dispatch trigger shares a group with the deploys
    for (const [file, w] of Object.entries(workflows))
      if (w.on.workflow_dispatch && w.concurrency)
        expect([file, w.concurrency.group]).not.toEqual([file, expect.stringMatching(/deploy-/)]);
  });

  it('previews on the pull request events the action routes, grouped per pull request', () => {
    const w = workflows['preview.yml'] as Workflow;
    expect((w.on.pull_request as { types: string[] }).types.sort()).toEqual([
      'closed',
      'opened',
      'reopened',
      'synchronize',
    ]);
    expect(actionSteps(w)[0]?.with?.['preview-domain']).toBeTruthy();
  });

  it('rolls back from a dispatch with the environment and target inputs', () => {
    const w = workflows['rollback.yml'] as Workflow;
    const inputs = (w.on.workflow_dispatch as { inputs: Record<string, { default: string }> }).inputs;
    expect(inputs.environment?.default).toBe('production');
    expect(inputs.target?.default).toBe('previous');
    expect(actionSteps(w)[0]?.with).toMatchObject({
      mode: 'rollback',
      environment: expr('inputs.environment'),
      'rollback-target': expr('inputs.target'),
    });
  });

  it.each(Object.keys(workflows))('%s pins every action by full commit SHA, version in a comment', (file) => {
    const uses = [...(texts[file] ?? '').matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)];
    for (const [, ref, comment] of uses) {
      if (ref === './') continue;
      expect(`${ref}${comment}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/);
    }
  });

  it.each(Object.keys(workflows))('%s bounds every job with timeout-minutes', (file) => {
    for (const [name, job] of Object.entries((workflows[file] as Workflow).jobs))
      expect([name, typeof job['timeout-minutes']]).toEqual([name, 'number']);
  });

  it('signs in as production only inside the GitHub Environment production, and as the preview identity elsewhere', () => {
    const clientIds = (file: string) =>
      Object.values((workflows[file] as Workflow).jobs).map((job) => ({
        environment: typeof job.environment === 'string' ? job.environment : job.environment?.name,
        clientId: job.steps.find((s) => s.uses === './')?.with?.['azure-client-id'],
      }));
    const production = { environment: 'production', clientId: expr('vars.AZURE_CLIENT_ID') };
    const preview = { environment: undefined, clientId: expr('vars.AZURE_PREVIEW_CLIENT_ID') };
    expect(clientIds('deploy.yml')).toEqual([production]);
    expect(clientIds('preview.yml')).toEqual([preview, preview]);
    // publishing needs no Azure identity
    expect(clientIds('preview-report.yml')).toEqual([{ environment: undefined, clientId: undefined }]);
    expect(clientIds('rollback.yml')).toEqual([production, preview]);
    expect(clientIds('sweep.yml')).toEqual([preview]);
  });

  it("runs no fork's or Dependabot's code in the preview job, and only the default branch's in the others", () => {
    const w = workflows['preview.yml'] as Workflow;
    for (const job of [w.jobs.preview, w.jobs.teardown]) {
      expect(job?.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
      expect(job?.if).toContain("github.actor != 'dependabot[bot]'");
    }
    const checkoutRef = (job: Workflow['jobs'][string] | undefined) =>
      job?.steps.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.ref;
    expect(checkoutRef(w.jobs.preview)).toBe(expr('github.event.pull_request.head.sha'));
    expect(checkoutRef(w.jobs.teardown)).toBe(expr('github.event.repository.default_branch'));
    const report = workflows['preview-report.yml'] as Workflow;
    expect(Object.keys(report.on)).toEqual(['workflow_run']);
    expect(checkoutRef(report.jobs.report)).toBe(expr('github.event.repository.default_branch'));
    expect(actionSteps(report)[0]?.with?.mode).toBe('report');
  });

  it('has Dependabot keep the pinned actions and both npm packages current', () => {
    const config = parse(readFileSync(new URL('../../.github/dependabot.yml', import.meta.url), 'utf8')) as {
      updates: { 'package-ecosystem': string; directory: string }[];
    };
    expect(config.updates.map((u) => `${u['package-ecosystem']} ${u.directory}`).sort()).toEqual([
      'github-actions /',
      'npm /',
      'npm /service',
    ]);
  });

  it('sweeps on a schedule', () => {
    const w = workflows['sweep.yml'] as Workflow;
    expect((w.on.schedule as { cron: string }[])[0]?.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(actionSteps(w)[0]?.with?.mode).toBe('sweep');
  });

  it.each(Object.keys(workflows))(
    '%s interpolates nothing a pull request author controls into a script',
    (file) => {
      const untrusted =
        /\$\{\{[^}]*(github\.head_ref|github\.event\.pull_request\.(title|body|head\.ref|head\.label)|github\.event\.(issue|comment|review)\.)[^}]*\}\}/;
      for (const job of Object.values((workflows[file] as Workflow).jobs))
        for (const step of job.steps) expect(step.run ?? '').not.toMatch(untrusted);
    },
  );
});
