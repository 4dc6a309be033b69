import { existsSync } from 'node:fs';
import * as core from '@actions/core';
import type { GitHub } from '../github/client.js';
import { deployPublication, type Outcome, published } from '../github/publish.js';
import { readPreviewReport } from '../github/report.js';
import type { Settings } from '../settings.js';

// Mode report: a workflow_run job, on the default branch's code, publishes what a preview run reported (its
// GitHub deployment and the pull request's comment). The preview run had no token that writes to GitHub.

export interface ReportJob {
  pr: number;
  sha: string;
  /** the preview run's page: the comment and deployment link there, where its log is */
  runUrl: string;
  /** the preview run's conclusion: a run that failed before it wrote a report is published as failed */
  conclusion: string;
}

export class ReportedFailure extends Error {
  constructor(
    message: string,
    readonly result: Outcome,
  ) {
    super(message);
    this.name = 'ReportedFailure';
  }
}

/** The failure a report carries is published, not this run's failure: any other error is. */
function expected(error: unknown): void {
  if (!(error instanceof ReportedFailure)) throw error;
}

/** Publishes the preview run's report; a run without one is published as failed, or not at all. */
export async function publishReport(
  settings: Settings,
  gh: GitHub | undefined,
  job: ReportJob,
): Promise<string> {
  if (!gh)
    throw new Error(
      "mode report publishes to GitHub: input 'github-token' is empty (the workflow grants it deployments: write and pull-requests: write)",
    );
  if (!settings.reportFile)
    throw new Error(
      "mode report needs input 'report-file': the preview run's report, downloaded from its artifact",
    );
  const publication = deployPublication(settings.appName, job.sha, job.pr);
  const atRun = { ...gh, runUrl: job.runUrl || gh.runUrl };
  if (!existsSync(settings.reportFile)) {
    if (job.conclusion === 'success' || job.conclusion === 'skipped')
      return `the preview run of pull request #${job.pr} left no report (it deployed nothing): nothing to publish`;
    const none = { url: '', image: '', digest: '', revision: 0 };
    await published(atRun, publication, async () => {
      throw new ReportedFailure(`the preview run ended ${job.conclusion || 'without a conclusion'}`, none);
    }).catch(expected);
    return `the preview run of pull request #${job.pr} ended ${job.conclusion} before it reported: published as failed`;
  }
  const report = readPreviewReport(settings.reportFile, {
    pr: job.pr,
    sha: job.sha,
    host: settings.previewDomain ? `pr-${job.pr}.${settings.previewDomain}` : '',
    repository: `${settings.registry.host}/${settings.image.previewName}`,
  });
  if (report.dropped.length > 0)
    core.warning(
      `the preview's report had ${report.dropped.join(', ')} of another shape than a preview of pull request #${job.pr} gives: not published`,
    );
  await published(atRun, publication, async () => {
    if (report.state === 'success') return report.outcome;
    throw new ReportedFailure(report.summary || 'the preview failed', {
      ...report.outcome,
      ...(report.summary ? { diagnosis: { publicSummary: report.summary } } : {}),
    });
  }).catch(expected);
  return `published the preview of pull request #${job.pr} at ${job.sha.slice(0, 7)}: ${report.state}`;
}
