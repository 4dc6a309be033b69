import * as core from '@actions/core';
import { formatAge } from '../util/duration.js';
import { htmlText, mdText, preBlock } from '../util/markdown.js';
import type { Timings } from '../util/timings.js';
import { type DiagnosisView, diagnosisMarkdown } from './diagnosis-markdown.js';

// The job summary and outputs of each job. The reports own their input types, the fields they show: the
// jobs' results fit them as they are.

type Steps = Timings['steps'];

/** What a deploy and a rollback both report, and set as the action's outputs. */
interface OutcomeReport {
  environment: string;
  namespace: string;
  image: string;
  digest: string;
  revision: number;
  url: string;
  timings: Steps;
  diagnosis?: DiagnosisView;
  /** strategy canary: 'paused', 'promoted' or 'aborted', for output canary */
  canaryState?: string;
}

export interface DeployReport extends OutcomeReport {
  endpoints: { service: string; ready: number }[];
  ingressAddress: string;
  applied: { kind: string; name: string; action: string }[];
  pruned: { kind: string; name: string }[];
  /** strategy canary: each step's figures and verdict */
  canary?: string[];
  /** canary-pause: the share the canary holds while it waits for mode promote or abort */
  paused?: number;
}

export interface RollbackReport extends OutcomeReport {
  deployment: string;
  from: number;
  to: number;
  unchanged: boolean;
  revisions: {
    revision: number;
    current: boolean;
    images: string[];
    created: string;
    gitSha?: string;
    changeCause?: string;
  }[];
  /** a rollback by release: the releases before it, and the release that recorded it */
  releases?: {
    number: number;
    outcome: string;
    sha: string;
    image: string;
    created: string;
    note?: string;
  }[];
  recorded?: number;
  /** mode abort: the one sentence that says what happened, in place of a restore's */
  sentence?: string;
}

export interface TeardownReport {
  environment: string;
  namespace: string;
  found: boolean;
  objects: string[];
  timings: Steps;
}

export interface SweepReport {
  ttlMs: number;
  entries: { namespace: string; pr: number; updatedAt: Date; delete: boolean; reason: string }[];
  timings: Steps;
}

/** The action's outputs (action.yml): the same for a deploy and a rollback. */
function setOutputs(result: OutcomeReport): void {
  core.setOutput('image', result.image);
  core.setOutput('digest', result.digest);
  core.setOutput('namespace', result.namespace);
  core.setOutput('revision', String(result.revision));
  core.setOutput('url', result.url);
  core.setOutput('canary', result.canaryState ?? '');
}

/** Output canary of a deploy: where its canary got to, '' when none ran. */
function canaryState(result: DeployReport, error?: string): string {
  if (!result.canary?.length) return '';
  if (result.paused !== undefined) return 'paused';
  return error ? 'aborted' : 'promoted';
}

/** Outputs and the job summary of a deploy, whether it succeeded or not. */
export async function reportDeploy(result: DeployReport, error?: string): Promise<void> {
  setOutputs({ ...result, canaryState: canaryState(result, error) });

  const s = core.summary.addHeading(`${error ? '❌' : '✅'} ${result.environment}`, 2);
  if (error) s.addRaw(`\n${preBlock([error])}\n\n`);
  s.addTable([
    [
      { data: 'what', header: true },
      { data: 'value', header: true },
    ],
    ['namespace', htmlText(result.namespace)],
    ['image', `<code>${htmlText(result.image)}</code>`],
    ['revision', String(result.revision || '-')],
    ['url', result.url ? `<a href="${htmlText(result.url)}">${htmlText(result.url)}</a>` : '-'],
    ...(result.paused === undefined
      ? []
      : [['canary', `paused at ${result.paused} %: run mode promote or mode abort`]]),
    ...result.endpoints.map((e) => [`Service/${htmlText(e.service)}`, `${e.ready} ready endpoints`]),
    ['ingress address', htmlText(result.ingressAddress || '-')],
  ]);
  if (result.applied.length > 0)
    s.addHeading('Applied', 3).addList(
      result.applied.map((o) => htmlText(`${o.kind}/${o.name}: ${o.action}`)),
    );
  if (result.pruned.length > 0)
    s.addHeading('Pruned', 3).addList(result.pruned.map((o) => htmlText(`${o.kind}/${o.name}`)));
  if (result.canary?.length) s.addHeading('Canary', 3).addList(result.canary.map(htmlText));
  addSteps(result.timings);
  if (result.diagnosis) s.addHeading('Diagnosis', 3).addRaw(`\n${diagnosisMarkdown(result.diagnosis)}\n`);
  await s.write();
}

/** Outputs and the job summary of a rollback: the revisions, the one restored, and how it went. */
export async function reportRollback(result: RollbackReport, error?: string): Promise<void> {
  setOutputs(result);

  const s = core.summary.addHeading(`${error ? '❌' : '↩️'} rollback of ${htmlText(result.environment)}`, 2);
  if (result.releases) {
    const current = [...result.releases].reverse().find((r) => r.outcome === 'deployed')?.number;
    if (error) s.addRaw(`\n${preBlock([error])}\n\n`);
    else if (result.sentence) s.addRaw(`\n${htmlText(result.sentence)}\n\n`);
    else if (result.unchanged)
      s.addRaw(
        `\nRelease ${result.to} is what ${htmlText(result.environment)} runs already: nothing changed.\n\n`,
      );
    else
      s.addRaw(
        `\nNamespace ${htmlText(result.namespace)}: release ${result.from} → release ${result.to}'s whole set, recorded as release ${result.recorded ?? '?'}.\n\n`,
      );
    s.addHeading('Releases before the rollback', 3).addTable([
      ['release', 'outcome', 'git sha', 'image', 'created', 'note'].map((data) => ({ data, header: true })),
      ...[...result.releases]
        .sort((a, b) => b.number - a.number)
        .map((r) => [
          `${r.number}${r.number === current ? ' (current)' : ''}${r.number === result.to ? ' ← target' : ''}`,
          htmlText(r.outcome),
          `<code>${htmlText(r.sha.slice(0, 12))}</code>`,
          `<code>${htmlText(r.image)}</code>`,
          htmlText(r.created),
          htmlText(r.note || '-'),
        ]),
    ]);
    if (result.url) s.addRaw(`\nURL: <a href="${htmlText(result.url)}">${htmlText(result.url)}</a>\n`);
    addSteps(result.timings);
    if (result.diagnosis) s.addHeading('Diagnosis', 3).addRaw(`\n${diagnosisMarkdown(result.diagnosis)}\n`);
    await s.write();
    return;
  }
  if (error) s.addRaw(`\n${preBlock([error])}\n\n`);
  else if (result.unchanged)
    s.addRaw(
      `\nRevision ${result.to} is what Deployment/${htmlText(result.deployment)} runs already: nothing changed.\n\n`,
    );
  else
    s.addRaw(
      `\nDeployment/${htmlText(result.deployment)} in namespace ${htmlText(result.namespace)}: revision ${result.from} → ` +
        `revision ${result.to}'s template, now serving as revision ${result.revision}.\n\n`,
    );
  s.addHeading('Revisions before the rollback', 3).addTable([
    ['revision', 'image', 'created', 'git sha', 'change-cause'].map((data) => ({ data, header: true })),
    ...[...result.revisions]
      .sort((a, b) => b.revision - a.revision)
      .map((r) => [
        `${r.revision}${r.current ? ' (current)' : ''}${r.revision === result.to ? ' ← target' : ''}`,
        r.images.map((i) => `<code>${htmlText(i)}</code>`).join('<br>'),
        htmlText(r.created),
        r.gitSha ? `<code>${htmlText(r.gitSha.slice(0, 12))}</code>` : '-',
        htmlText(r.changeCause ?? '-'),
      ]),
  ]);
  if (result.url) s.addRaw(`\nURL: <a href="${htmlText(result.url)}">${htmlText(result.url)}</a>\n`);
  addSteps(result.timings);
  if (result.diagnosis) s.addHeading('Diagnosis', 3).addRaw(`\n${diagnosisMarkdown(result.diagnosis)}\n`);
  await s.write();
}

/** The job summary of a teardown. github: what the GitHub side did. */
export async function reportTeardown(result: TeardownReport, github: string[]): Promise<void> {
  core.setOutput('namespace', result.namespace);
  const s = core.summary.addHeading(`🗑️ teardown of ${htmlText(result.environment)}`, 2);
  s.addRaw(
    result.found
      ? `\nNamespace ${htmlText(result.namespace)} and everything in it were deleted.\n\n`
      : `\nNamespace ${htmlText(result.namespace)} did not exist: nothing to delete.\n\n`,
  );
  if (result.objects.length > 0) s.addHeading('Deleted', 3).addList(result.objects.map(htmlText));
  if (github.length > 0) s.addHeading('GitHub', 3).addList(github.map(htmlText));
  addSteps(result.timings);
  await s.write();
}

/** The job summary of a sweep: what it deleted and what it kept, and why. */
export async function reportSweep(result: SweepReport, github: string[]): Promise<void> {
  const deleted = result.entries.filter((e) => e.delete);
  const s = core.summary.addHeading(
    `🧹 preview sweep: ${deleted.length} deleted, ${result.entries.length - deleted.length} kept`,
    2,
  );
  s.addRaw(
    `\nPreviews not deployed for longer than ${formatAge(result.ttlMs)} (input preview-ttl), or whose pull request is closed, are deleted.\n\n`,
  );
  if (result.entries.length > 0)
    s.addTable([
      ['namespace', 'pull request', 'last deployed', 'action', 'why'].map((data) => ({ data, header: true })),
      ...result.entries.map((e) => [
        htmlText(e.namespace),
        `#${e.pr}`,
        htmlText(e.updatedAt.toISOString()),
        e.delete ? 'deleted' : 'kept',
        htmlText(e.reason),
      ]),
    ]);
  else s.addRaw('No previews found.\n');
  if (github.length > 0) s.addHeading('GitHub', 3).addList(github.map(htmlText));
  addSteps(result.timings);
  await s.write();
}

function addSteps(steps: Steps): void {
  core.summary.addHeading('Steps', 3).addTable([
    [
      { data: 'step', header: true },
      { data: 'seconds', header: true },
      { data: 'API requests', header: true },
    ],
    ...steps.map((t) => [
      htmlText(`${t.ok ? '' : '✗ '}${t.name}`),
      (t.ms / 1000).toFixed(1),
      String(t.requests ?? 0),
    ]),
  ]);
}

/** A run that had nothing to do (a fork's pull request, an action that changes no preview). */
export async function reportSkip(reason: string): Promise<void> {
  await core.summary
    .addHeading('⏭️ skipped', 2)
    .addRaw(`\n${mdText(reason)}\n`)
    .write();
}

/** A failure before anything reached the cluster: the message alone. */
export async function reportError(title: string, error: string): Promise<void> {
  await core.summary
    .addHeading(`❌ ${htmlText(title)}`, 2)
    .addRaw(`\n${preBlock([error])}\n`)
    .write();
}
