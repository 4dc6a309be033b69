import * as core from '@actions/core';
import { Credentials } from './credentials.js';
import { type Route, route } from './event.js';
import { bestEffort, connectGitHub, type GitHub } from './github/client.js';
import {
  abortPublication,
  deployPublication,
  published,
  publishRemoval,
  rollbackPublication,
} from './github/publish.js';
import { pullState } from './github/pulls.js';
import { writePreviewReport } from './github/report.js';
import {
  reportDeploy,
  reportError,
  reportRollback,
  reportSkip,
  reportSweep,
  reportTeardown,
} from './github/summary.js';
import { abortCanary, planReview, promote } from './jobs/canary-review.js';
import { DeployFailure, type DeployResult, deploy } from './jobs/deploy.js';
import { deployPreview } from './jobs/preview.js';
import { publishReport } from './jobs/report.js';
import { planRollback, RollbackFailure, rollback } from './jobs/rollback.js';
import { sweep } from './jobs/sweep.js';
import { teardown } from './jobs/teardown.js';
import type { RunInfo } from './plan.js';
import { type RunEvent, runEvent } from './runner.js';
import { getRouting, getSettings, type Settings } from './settings.js';
import { cancelRequested } from './util/cancel.js';
import { requestsSent } from './util/requests.js';

/** The action: decide the job from the event, read the inputs, do it. Errors become one failed step here. */
export async function run(): Promise<void> {
  let credentials: Credentials | undefined;
  try {
    // routed first: a fork's pull request is skipped before inputs it cannot fill are checked
    const event = runEvent();
    const job = route(event, getRouting());
    core.info(`job: ${describe(job)}`);
    if (job.job === 'skip') {
      core.notice(job.reason);
      return await reportSkip(job.reason);
    }
    // a report publishes to GitHub only: no cluster input is needed
    const settings = getSettings(undefined, { cluster: job.job !== 'report' });
    // a pull request whose run may not sign in (a bot's): skipped before anything is attempted
    const without = await pullRequestWithoutIdentity(job, settings, event.actor);
    if (without) {
      core.notice(without);
      return await reportSkip(without);
    }
    credentials = new Credentials(settings);
    await dispatch(job, event, settings, credentials, await connectGitHub(settings.githubToken, event));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof DeployFailure) await reportDeploy(error.result, message).catch(() => undefined);
    else if (error instanceof RollbackFailure)
      await reportRollback(error.result, message).catch(() => undefined);
    else await reportError('archetype-deploy failed', message).catch(() => undefined);
    core.setFailed(message);
  } finally {
    if (credentials?.tokens) core.info(credentials.tokens.describe());
    if (requestsSent() > 0) core.info(`API server requests sent by this run: ${requestsSent()}`);
    // a cancelled deploy has restored and reported; what it abandoned (a watch) must not keep it alive
    if (cancelRequested()) process.exit();
  }
}

async function dispatch(
  job: Exclude<Route, { job: 'skip' }>,
  event: RunEvent,
  settings: Settings,
  credentials: Credentials,
  gh: GitHub | undefined,
): Promise<void> {
  const app = settings.appName;
  switch (job.job) {
    case 'deploy': {
      const work = () => deploy(settings, credentials, runInfo(event, job.sha, job.defaultBranch));
      await reportDeploy(await published(gh, deployPublication(app, job.sha), work));
      return;
    }
    case 'preview': {
      // a push queued behind the pull request's close must not bring its preview back
      if (
        gh &&
        (await bestEffort(`state of pull request #${job.pr}`, () => pullState(gh, job.pr))) === 'closed'
      ) {
        const reason = `pull request #${job.pr} was closed after this run was queued: no preview is deployed (its teardown removes the rest)`;
        core.notice(reason);
        return reportSkip(reason);
      }
      const work = () =>
        reported(settings.reportFile, job, () =>
          deployPreview(settings, credentials, runInfo(event, job.sha, false), job.pr),
        );
      await reportDeploy(await published(gh, deployPublication(app, job.sha, job.pr), work));
      return;
    }
    case 'report': {
      const line = await publishReport(settings, gh, job);
      core.info(line);
      return reportSkip(line);
    }
    case 'teardown': {
      const result = await teardown(settings, credentials, previewNumber(job.pr, settings));
      const removal = { pr: result.pr, namespace: result.namespace, reason: teardownReason(job.pr) };
      await reportTeardown(result, await publishRemoval(gh, app, [removal]));
      return;
    }
    case 'sweep': {
      const result = await sweep(settings, credentials, gh);
      await reportSweep(result, await publishRemoval(gh, app, result.removed));
      return;
    }
    case 'rollback': {
      // a dispatch on the default branch: whose repository it is decides whether a preview's logs are shown
      const plan = await planRollback(settings, credentials, runInfo(event, event.sha, true));
      const work = () => rollback(settings, plan);
      await reportRollback(await published(gh, rollbackPublication(app, plan, event.sha), work));
      return;
    }
    case 'promote': {
      // the paused release is deployed as it was measured, whatever the checkout holds
      const review = await planReview(settings, credentials, 'promote');
      const work = () => promote(settings, credentials, runInfo(event, review.paused.sha, true), review);
      await reportDeploy(await published(gh, deployPublication(app, review.paused.sha), work));
      return;
    }
    case 'abort': {
      const review = await planReview(settings, credentials, 'abort');
      const work = () => abortCanary(settings, review, event.actor ?? '');
      await reportRollback(await published(gh, abortPublication(app, review), work));
      return;
    }
  }
}

/** A preview's outcome written to input report-file (when set), for a trusted run to publish (mode report). */
async function reported(
  file: string,
  job: { pr: number; sha: string },
  work: () => Promise<DeployResult>,
): Promise<DeployResult> {
  if (!file) return work();
  const write = (state: 'success' | 'failure', r: DeployResult | undefined) =>
    writePreviewReport(file, {
      pr: job.pr,
      sha: job.sha,
      state,
      url: r?.url ?? '',
      image: r?.image ?? '',
      digest: r?.digest ?? '',
      revision: r?.revision ?? 0,
      // what anyone may read: the diagnosis without pod logs, never an error that may quote the manifests
      summary: r?.diagnosis?.publicSummary ?? '',
    });
  try {
    const result = await work();
    write('success', result);
    return result;
  } catch (error) {
    write('failure', error instanceof DeployFailure ? error.result : undefined);
    throw error;
  }
}

/**
 * A pull request run that cannot sign in to Azure: a bot's (GitHub gives it no OIDC token, as it gives a fork
 * none) is skipped, with the reason; anyone else's fails, naming the permission, so that the pull request
 * does not show green with no preview.
 */
async function pullRequestWithoutIdentity(
  job: Route,
  settings: Settings,
  actor: string | undefined,
): Promise<string | undefined> {
  const pr = job.job === 'preview' || job.job === 'teardown' ? job.pr : undefined;
  const usesAzure = settings.registry.kind === 'acr' || settings.cluster.kind === 'aks';
  if (pr === undefined || !usesAzure) return undefined;
  const { federationUnavailable } = await import('./azure/identity.js');
  const why = await federationUnavailable(settings.azure, settings.azure.oidcAudience);
  if (!why) return undefined;
  if (actor?.endsWith('[bot]'))
    return `pull request #${pr} is skipped: ${why}. Nothing was built or deployed.`;
  throw new Error(
    `pull request #${pr} cannot sign in to Azure: ${why}. Give the job 'permissions: id-token: write' (preview.yml does); nothing was built or deployed.`,
  );
}

/** The pull request of a teardown: the event's, or input 'environment' for a dispatch. */
function previewNumber(pr: number | undefined, settings: Settings): number {
  if (pr !== undefined) return pr;
  if (settings.environment.kind === 'preview') return settings.environment.pr;
  throw new Error(
    "input 'environment' is 'production': a teardown deletes a pull request's preview, never production; give the pull request number, e.g. 7",
  );
}

function teardownReason(fromEvent: number | undefined): string {
  return fromEvent === undefined ? 'torn down by a manual run' : 'pull request closed';
}

function runInfo(event: RunEvent, sha: string, defaultBranch: boolean): RunInfo {
  const { serverUrl, runId } = event;
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  return {
    sha,
    defaultBranch,
    repositoryUrl: repository ? `${serverUrl}/${repository}` : '',
    runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : '',
    ghaCache: Boolean(process.env.ACTIONS_CACHE_URL || process.env.ACTIONS_RESULTS_URL),
    // only a payload that says so makes a repository private: a missing one is treated as public
    publicRepository: (event.payload.repository as { private?: boolean } | undefined)?.private !== true,
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
      return `teardown of the preview of ${job.pr === undefined ? "input 'environment'" : `pull request #${job.pr}`}`;
    case 'skip':
      return 'skip';
    case 'promote':
      return "promote production's paused canary";
    case 'abort':
      return "abort production's paused canary";
    default:
      return job.job;
  }
}
