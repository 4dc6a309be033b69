import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { getSettings } from '../../src/settings.js';
import { readerFor } from '../helpers/action-inputs.js';

// .github/workflows/rollback.yml picks the identity by its input environment: the production job signs in as
// production, the preview job as the preview identity. The pick must be exact. A free-text input compared
// loosely (`!= 'production'`) sent ' production' to the preview job, which passed it to the action, where it
// reads as production once trimmed. Now the input is a choice (GitHub refuses a dispatch whose value is not
// one of the options: "Create a workflow dispatch event", REST API), each job runs on equality with one
// option, and the preview job hands the action only a checked pull request number.

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  environment?: string;
  steps: Step[];
}
interface Input {
  type?: string;
  options?: string[];
  default?: string;
  required?: boolean;
}

const workflow = parse(
  readFileSync(new URL('../../.github/workflows/rollback.yml', import.meta.url), 'utf8'),
) as { on: { workflow_dispatch: { inputs: Record<string, Input> } }; jobs: Record<string, Job> };
const inputs = workflow.on.workflow_dispatch.inputs;
const jobs = workflow.jobs;
const minimal = { registry: '127.0.0.1:5000', kubeconfig: 'apiVersion: v1\nkind: Config\n' };
/** A GitHub expression as it stands in a workflow, ${{ ... }} */
const expr = (inner: string) => `\${{ ${inner} }}`;
const action = (job: Job) => job.steps.find((s) => s.uses === './')?.with ?? {};

/**
 * The jobs that run for a dispatch, with the job conditions this workflow may use: `inputs.<name> == '<v>'`
 * alone. Anything else (!=, contains, a bare input) fails the test rather than being guessed at.
 */
function jobsFor(dispatch: Record<string, string>): string[] {
  return Object.entries(jobs)
    .filter(([name, job]) => {
      const match = /^inputs\.([\w-]+) == '([^']*)'$/.exec(job.if ?? '');
      if (!match)
        throw new Error(`job ${name}: condition '${job.if}' is not an exact comparison of one input`);
      return dispatch[match[1] ?? ''] === match[2];
    })
    .map(([name]) => name);
}

/** The preview job's check of the pull request number, run with bash as the runner runs it. */
function previewCheck(pullRequest: string): { code: number; output: string } {
  const step = jobs.preview?.steps.find((s) => s.env?.PULL_REQUEST !== undefined);
  if (!step?.run) throw new Error('the preview job has no step that checks PULL_REQUEST');
  const result = spawnSync('bash', ['-e', '-c', step.run], {
    env: { PATH: process.env.PATH, PULL_REQUEST: pullRequest },
    encoding: 'utf8',
  });
  return { code: result.status ?? -1, output: result.stdout + result.stderr };
}

describe('rollback.yml', () => {
  it('takes the environment as a choice of production or preview, and the pull request apart', () => {
    expect(inputs.environment).toMatchObject({
      type: 'choice',
      options: ['production', 'preview'],
      default: 'production',
      required: true,
    });
    expect(inputs['pull-request']).toMatchObject({ required: false });
  });

  it('runs exactly one job for each option, production only in the GitHub Environment production', () => {
    expect(jobsFor({ environment: 'production', 'pull-request': '' })).toEqual(['production']);
    expect(jobsFor({ environment: 'preview', 'pull-request': '7' })).toEqual(['preview']);
    expect(jobs.production?.environment).toBe('production');
    expect(jobs.preview?.environment).toBeUndefined();
    // what a free-text input let through, and GitHub now refuses
    expect(inputs.environment?.options).not.toContain(' production');
  });

  it("passes the action what its input environment reads: production, or the pull request's number", () => {
    expect(action(jobs.production as Job).environment).toBe(expr('inputs.environment'));
    expect(getSettings(readerFor({ ...minimal, environment: 'production' })).environment).toEqual({
      kind: 'production',
    });
    expect(action(jobs.preview as Job).environment).toBe(expr('inputs.pull-request'));
    expect(previewCheck('7').code).toBe(0);
    expect(getSettings(readerFor({ ...minimal, environment: '7' })).environment).toEqual({
      kind: 'preview',
      pr: 7,
    });
  });

  it.each(['', ' 7', '7 ', 'production', ' production', 'pr-7', '0', '07', '1234567890', '7;id'])(
    'the preview job stops at once on pull-request %j, naming the input',
    (value) => {
      const { code, output } = previewCheck(value);
      expect(code).toBe(1);
      expect(output).toContain(
        `::error title=rollback::input pull-request: '${value}' is not a pull request number`,
      );
    },
  );

  it('checks the number before anything else in the preview job', () => {
    expect(jobs.preview?.steps[0]?.env?.PULL_REQUEST).toBe(expr('inputs.pull-request'));
  });
});
