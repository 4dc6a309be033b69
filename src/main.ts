import * as core from '@actions/core';
import * as github from '@actions/github';
import { type Route, route } from './event.js';
import { getSettings, type Settings } from './settings.js';

/** The action: read the inputs, decide the job from the event, do it. Errors become one failed step here. */
export async function run(): Promise<void> {
  try {
    const settings = getSettings();
    const job = route(github.context, settings.mode);
    core.info(`job: ${describe(job)}`);
    await dispatch(job, settings);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}

async function dispatch(job: Route, _settings: Settings): Promise<void> {
  switch (job.job) {
    case 'skip':
      core.notice(job.reason);
      return;
    case 'deploy':
    case 'preview':
    case 'teardown':
    case 'sweep':
    case 'rollback':
      throw new Error(`the ${job.job} job is not built yet in this version of the action`);
  }
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
