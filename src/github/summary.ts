import * as core from '@actions/core';
import type { DeployResult } from '../jobs/deploy.js';
import type { RollbackResult } from '../jobs/rollback.js';
import { formatAge, type SweepResult } from '../jobs/sweep.js';
import type { TeardownResult } from '../jobs/teardown.js';
import { diagnosisMarkdown } from '../kube/diagnose.js';
import type { Timings } from '../util/timings.js';

/** Outputs and the job summary of a deploy, whether it succeeded or not. */
export async function reportDeploy(result: DeployResult, error?: string): Promise<void> {
  core.setOutput('image', result.image);
  core.setOutput('digest', result.digest);
  core.setOutput('namespace', result.namespace);
  core.setOutput('revision', String(result.revision));
  core.setOutput('url', result.url);

  const s = core.summary.addHeading(`${error ? '❌' : '✅'} ${result.environment}`, 2);
  if (error) s.addRaw(`\n**${escapeHtml(error)}**\n\n`);
  s.addTable([
    [
      { data: 'what', header: true },
      { data: 'value', header: true },
    ],
    ['namespace', escapeHtml(result.namespace)],
    ['image', `<code>${escapeHtml(result.image)}</code>`],
    ['revision', String(result.revision || '-')],
    ['url', result.url ? `<a href="${escapeHtml(result.url)}">${escapeHtml(result.url)}</a>` : '-'],
    ...result.endpoints.map((e) => [`Service/${escapeHtml(e.service)}`, `${e.ready} ready endpoints`]),
    ['ingress address', escapeHtml(result.ingressAddress || '-')],
  ]);
  if (result.applied.length > 0)
    s.addHeading('Applied', 3).addList(
      result.applied.map((o) => escapeHtml(`${o.kind}/${o.name}: ${o.action}`)),
    );
  if (result.pruned.length > 0)
    s.addHeading('Pruned', 3).addList(result.pruned.map((o) => escapeHtml(`${o.kind}/${o.name}`)));
  addSteps(result.timings);
  if (result.diagnosis) s.addHeading('Diagnosis', 3).addRaw(`\n${diagnosisMarkdown(result.diagnosis)}\n`);
  await s.write();
}

/** Outputs and the job summary of a rollback: the revisions, the one restored, and how it went. */
export async function reportRollback(result: RollbackResult, error?: string): Promise<void> {
  core.setOutput('image', result.image);
  core.setOutput('digest', result.digest);
  core.setOutput('namespace', result.namespace);
  core.setOutput('revision', String(result.revision));
  core.setOutput('url', result.url);

  const s = core.summary.addHeading(`${error ? '❌' : '↩️'} rollback of ${escapeHtml(result.environment)}`, 2);
  if (error) s.addRaw(`\n**${escapeHtml(error)}**\n\n`);
  else if (result.unchanged)
    s.addRaw(
      `\nRevision ${result.to} is what Deployment/${escapeHtml(result.deployment)} runs already: nothing changed.\n\n`,
    );
  else
    s.addRaw(
      `\nDeployment/${escapeHtml(result.deployment)} in namespace ${escapeHtml(result.namespace)}: revision ${result.from} → ` +
        `revision ${result.to}'s template, now serving as revision ${result.revision}.\n\n`,
    );
  s.addHeading('Revisions before the rollback', 3).addTable([
    ['revision', 'image', 'created', 'git sha', 'change-cause'].map((data) => ({ data, header: true })),
    ...[...result.revisions]
      .sort((a, b) => b.revision - a.revision)
      .map((r) => [
        `${r.revision}${r.current ? ' (current)' : ''}${r.revision === result.to ? ' ← target' : ''}`,
        r.images.map((i) => `<code>${escapeHtml(i)}</code>`).join('<br>'),
        escapeHtml(r.created),
        r.gitSha ? `<code>${escapeHtml(r.gitSha.slice(0, 12))}</code>` : '-',
        escapeHtml(r.changeCause ?? '-'),
      ]),
  ]);
  if (result.url) s.addRaw(`\nURL: <a href="${escapeHtml(result.url)}">${escapeHtml(result.url)}</a>\n`);
  addSteps(result.timings);
  if (result.diagnosis) s.addHeading('Diagnosis', 3).addRaw(`\n${diagnosisMarkdown(result.diagnosis)}\n`);
  await s.write();
}

/** The job summary of a teardown. github: what the GitHub side did. */
export async function reportTeardown(result: TeardownResult, github: string[]): Promise<void> {
  core.setOutput('namespace', result.namespace);
  const s = core.summary.addHeading(`🗑️ teardown of ${escapeHtml(result.environment)}`, 2);
  s.addRaw(
    result.found
      ? `\nNamespace ${escapeHtml(result.namespace)} and everything in it were deleted.\n\n`
      : `\nNamespace ${escapeHtml(result.namespace)} did not exist: nothing to delete.\n\n`,
  );
  if (result.objects.length > 0) s.addHeading('Deleted', 3).addList(result.objects.map(escapeHtml));
  if (github.length > 0) s.addHeading('GitHub', 3).addList(github.map(escapeHtml));
  addSteps(result.timings);
  await s.write();
}

/** The job summary of a sweep: what it deleted and what it kept, and why. */
export async function reportSweep(result: SweepResult, github: string[]): Promise<void> {
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
        escapeHtml(e.namespace),
        `#${e.pr}`,
        escapeHtml(e.updatedAt.toISOString()),
        e.delete ? 'deleted' : 'kept',
        escapeHtml(e.reason),
      ]),
    ]);
  else s.addRaw('No previews found.\n');
  if (github.length > 0) s.addHeading('GitHub', 3).addList(github.map(escapeHtml));
  addSteps(result.timings);
  await s.write();
}

function addSteps(steps: Timings['steps']): void {
  core.summary.addHeading('Steps', 3).addTable([
    [
      { data: 'step', header: true },
      { data: 'seconds', header: true },
    ],
    ...steps.map((t) => [escapeHtml(`${t.ok ? '' : '✗ '}${t.name}`), (t.ms / 1000).toFixed(1)]),
  ]);
}

/** A run that had nothing to do (a fork's pull request, an action that changes no preview). */
export async function reportSkip(reason: string): Promise<void> {
  await core.summary
    .addHeading('⏭️ skipped', 2)
    .addRaw(`\n${escapeHtml(reason)}\n`)
    .write();
}

/** A failure before anything reached the cluster: the message alone. */
export async function reportError(title: string, error: string): Promise<void> {
  await core.summary
    .addHeading(`❌ ${escapeHtml(title)}`, 2)
    .addCodeBlock(error)
    .write();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
