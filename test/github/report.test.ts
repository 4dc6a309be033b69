import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { route } from '../../src/event.js';
import { readPreviewReport, writePreviewReport } from '../../src/github/report.js';
import { eventFile, FakeGitHub } from '../fakes/github-server.js';
import { runAction } from '../helpers/run-action.js';

// Mode report: a workflow_run job on the default branch's code publishes what a preview run wrote to its
// report-file. The event follows GitHub's webhook payload for workflow_run (docs: "Webhook events and
// payloads", workflow_run; test/fixtures/events/workflow_run.completed.json); the GitHub side is FakeGitHub,
// which answers as the REST description says. Everything in the report is the pull request's word.

jest.setTimeout(60_000);

const sha = '7a'.repeat(20);
const digest = `sha256:${'c'.repeat(64)}`;
const expected = {
  pr: 7,
  sha,
  host: 'pr-7.preview.example.com',
  repository: 'myacr.azurecr.io/archetype-preview',
};
const fileWith = (report: Record<string, unknown>) => {
  const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'report.json');
  writeFileSync(file, JSON.stringify({ version: 1, pr: 7, sha, ...report }));
  return file;
};

describe('a preview report, as the trusted run reads it', () => {
  it('keeps what has the shape of this preview', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'report-')), 'report.json');
    writePreviewReport(file, {
      pr: 7,
      sha,
      state: 'success',
      url: 'https://pr-7.preview.example.com/',
      image: `myacr.azurecr.io/archetype-preview@${digest}`,
      digest,
      revision: 3,
      summary: '',
    });
    expect(readPreviewReport(file, expected)).toEqual({
      state: 'success',
      outcome: {
        url: 'https://pr-7.preview.example.com/',
        image: `myacr.azurecr.io/archetype-preview@${digest}`,
        digest,
        revision: 3,
      },
      summary: '',
      dropped: [],
    });
  });

  it('drops a link elsewhere, an image of production, a revision that is no number', () => {
    const checked = readPreviewReport(
      fileWith({
        state: 'success',
        url: 'https://evil.example/login?next=pr-7.preview.example.com',
        image: `myacr.azurecr.io/archetype@${digest}`,
        digest: 'sha256:nothex',
        revision: '3; drop',
        summary: 'line one\nline two\u0007 [click](https://evil.example)',
      }),
      expected,
    );
    expect(checked.outcome).toEqual({ url: '', image: '', digest: '', revision: 0 });
    expect(checked.dropped).toEqual(['url', 'digest', 'image', 'revision']);
    // one line; the comment shows it literally (util/markdown)
    expect(checked.summary).toBe('line one line two [click](https://evil.example)');
  });

  it.each([
    ['another pull request', { pr: 8 }],
    ['another commit', { sha: '8b'.repeat(20) }],
    ['another version', { version: 2 }],
  ])('refuses a report for %s whole', (_, change) => {
    expect(() => readPreviewReport(fileWith({ state: 'success', ...change }), expected)).toThrow(
      /nothing is published from it|not 1/,
    );
  });
});

describe('the workflow_run event', () => {
  const payload = (edit: (run: Record<string, unknown>) => void = () => {}) => {
    const p = JSON.parse(readFileSync(eventFile('workflow_run.completed'), 'utf8'));
    edit(p.workflow_run);
    return p;
  };
  const context = (p: Record<string, unknown>) => ({
    eventName: 'workflow_run',
    sha: 'f'.repeat(40),
    ref: 'refs/heads/main',
    payload: p,
  });

  it('routes to report, with the pull request and commit of the event', () => {
    expect(route(context(payload()), 'auto')).toEqual({
      job: 'report',
      pr: 7,
      sha,
      runUrl: 'https://github.com/local/archetype/actions/runs/30433642',
      conclusion: 'success',
    });
  });

  it("skips a fork's run and a run not started by a pull request", () => {
    const fork = payload((r) => {
      r.head_repository = { full_name: 'mallory/archetype' };
    });
    expect(route(context(fork), 'auto')).toMatchObject({ job: 'skip' });
    const push = payload((r) => {
      r.event = 'push';
    });
    expect(route(context(push), 'auto')).toMatchObject({ job: 'skip' });
  });
});

describe('mode report through dist/index.js', () => {
  const token = 'ghs_reporttesttoken';
  const github = new FakeGitHub('local', 'archetype', token);
  beforeAll(async () => {
    await github.start();
    github.pulls.set(7, 'open');
  });
  afterAll(() => github.stop());

  const inputs = (reportFile: string) => ({
    registry: 'myacr.azurecr.io',
    'preview-domain': 'preview.example.com',
    'github-token': token,
    'report-file': reportFile,
  });
  const publish = (reportFile: string, edit: (run: Record<string, unknown>) => void = () => {}) =>
    runAction(inputs(reportFile), {
      event: 'workflow_run',
      payload: eventFile('workflow_run.completed', (p) => edit(p.workflow_run as Record<string, unknown>)),
      env: { GITHUB_API_URL: github.url },
    });

  it('publishes a deployment for pr-7 and the comment on pull request 7, linking the preview run', async () => {
    const run = await publish(
      fileWith({
        state: 'success',
        url: 'https://pr-7.preview.example.com/',
        image: `myacr.azurecr.io/archetype-preview@${digest}`,
        digest,
        revision: 2,
      }),
    );
    expect(run.error).toBe('');
    const [deployment] = github.forEnvironment('pr-7');
    expect(deployment?.ref).toBe(sha);
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment?.statuses[1]?.environment_url).toBe('https://pr-7.preview.example.com/');
    expect(deployment?.statuses[1]?.log_url).toBe('https://github.com/local/archetype/actions/runs/30433642');
    const comment = github.comments.find((c) => c.issue === 7 && c.user.type === 'Bot');
    expect(comment?.body).toContain('https://pr-7.preview.example.com/');
    expect(comment?.body).toContain(digest);
  });

  it('publishes a failure with the summary as text, and nothing of the fields that are not this preview’s', async () => {
    const run = await publish(
      fileWith({
        state: 'failure',
        url: 'https://evil.example/',
        summary:
          'Deployment archetype revision 3 failed: <img src=x onerror=alert(1)> [login](https://evil.example)',
      }),
    );
    expect(run.error).toBe('');
    expect(run.log).toContain("the preview's report had url of another shape");
    const statuses = github.forEnvironment('pr-7').at(-1)?.statuses ?? [];
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(statuses[1]?.environment_url ?? '').toBe('');
    const comment = github.comments.find((c) => c.issue === 7 && c.user.type === 'Bot');
    expect(comment?.body).not.toContain('evil.example/)');
    expect(comment?.body).not.toContain('<img');
    expect(comment?.body).toContain('revision 3 failed');
  });

  it('publishes a run that failed before it reported as failed; one for another pull request not at all', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'report-')), 'none.json');
    const before = github.forEnvironment('pr-7').length;
    const run = await publish(missing, (r) => {
      r.conclusion = 'failure';
    });
    expect(run.error).toBe('');
    expect(github.forEnvironment('pr-7')).toHaveLength(before + 1);
    expect(
      github
        .forEnvironment('pr-7')
        .at(-1)
        ?.statuses.map((s) => s.state),
    ).toEqual(['in_progress', 'failure']);

    const other = await publish(fileWith({ pr: 8, state: 'success' }));
    expect(other.code).toBe(1);
    expect(other.error).toContain('is for pull request 8');
    expect(github.forEnvironment('pr-7')).toHaveLength(before + 1);
  });
});
