import * as core from '@actions/core';
import type { DeployResult } from '../jobs/deploy.js';
import { diagnosisMarkdown } from '../kube/diagnose.js';

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
  s.addHeading('Steps', 3).addTable([
    [
      { data: 'step', header: true },
      { data: 'seconds', header: true },
    ],
    ...result.timings.map((t) => [escapeHtml(`${t.ok ? '' : '✗ '}${t.name}`), (t.ms / 1000).toFixed(1)]),
  ]);
  if (result.diagnosis) s.addHeading('Diagnosis', 3).addRaw(`\n${diagnosisMarkdown(result.diagnosis)}\n`);
  await s.write();
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
