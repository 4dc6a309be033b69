import * as core from '@actions/core';
import * as github from '@actions/github';
import { Credentials } from './credentials.js';
import { type Route, route } from './event.js';
import { reportDeploy, reportError } from './github/summary.js';
import { DeployFailure, deploy } from './jobs/deploy.js';
import type { RunInfo } from './plan.js';
import { getSettings, type Settings } from './settings.js';

/** The action: read the inputs, decide the job from the event, do it. Errors become one failed step here. */
export async function run(): Promise<void> {
  try {
    const settings = getSettings();
    const job = route(github.context, settings.mode);
    core.info(`job: ${describe(job)}`);
    await dispatch(job, settings);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof DeployFailure) await reportDeploy(error.result, message).catch(() => undefined);
    else await reportError('archetype-deploy failed', message).catch(() => undefined);
    core.setFailed(message);
  }
}

async function dispatch(job: Route, settings: Settings): Promise<void> {
  switch (job.job) {
    case 'skip':
      core.notice(job.reason);
      return;
    case 'deploy':
      await reportDeploy(
        await deploy(settings, new Credentials(settings), runInfo(job.sha, job.defaultBranch)),
      );
      return;
    case 'preview':
      await reportDeploy(await deploy(settings, new Credentials(settings), runInfo(job.sha, false), job.pr));
      return;
    case 'teardown':
    case 'sweep':
    case 'rollback':
      throw new Error(`the ${job.job} job is not built yet in this version of the action`);
  }
}

function runInfo(sha: string, defaultBranch: boolean): RunInfo {
  const { serverUrl, runId } = github.context;
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  return {
    sha,
    defaultBranch,
    repositoryUrl: repository ? `${serverUrl}/${repository}` : '',
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    ghaCache: Boolean(process.env.ACTIONS_CACHE_URL || process.env.ACTIONS_RESULTS_URL),
    now: new Date(),
  };
}

function describe(job: Route): string {
  switch (job.job) {
    case 'deploy':
      return `deploy ${job.sha}${job.defaultBranch ? ' (default branch)' : ''}`;
    case 'preview':
      return `preview of pull request #${job.pr} at ${job.sha}`;
    case 'teardown':
      return `teardown of the preview of pull request #${job.pr}`;
    case 'skip':
      return 'skip';
    default:
      return job.job;
  }
}
