import type { Mode } from './settings.js';

// Which job this run does, decided from the event alone (pure, so every event fixture can be tested).

export interface EventContext {
  eventName: string;
  sha: string;
  ref: string;
  payload: {
    action?: string;
    repository?: { full_name?: string; default_branch?: string };
    pull_request?: {
      number?: number;
      head?: { sha?: string; ref?: string; repo?: { full_name?: string } | null };
    };
    [key: string]: unknown;
  };
}

export type Route =
  | { job: 'deploy'; sha: string; defaultBranch: boolean }
  | { job: 'preview'; pr: number; sha: string }
  /** pr is undefined when a dispatch names the preview in input 'environment' */
  | { job: 'teardown'; pr?: number }
  | { job: 'sweep' }
  | { job: 'rollback' }
  | { job: 'skip'; reason: string };

const previewActions = new Set(['opened', 'synchronize', 'reopened']);

export function route(context: EventContext, mode: Mode): Route {
  const pr = context.payload.pull_request;
  const fork =
    pr?.head?.repo?.full_name !== undefined &&
    pr.head.repo.full_name !== context.payload.repository?.full_name;
  const job = mode === 'auto' ? jobForEvent(context) : mode;
  if (typeof job !== 'string') return job;

  switch (job) {
    case 'deploy': {
      const defaultBranch = context.payload.repository?.default_branch;
      return {
        job,
        sha: context.sha,
        defaultBranch: defaultBranch !== undefined && context.ref === `refs/heads/${defaultBranch}`,
      };
    }
    case 'preview':
    case 'teardown': {
      if (!pr?.number) {
        if (job === 'teardown') return { job };
        throw new Error(
          `mode 'preview' needs a pull_request event, this run is '${context.eventName}'; use mode rollback, teardown or sweep with input environment instead`,
        );
      }
      if (fork)
        return {
          job: 'skip',
          reason: `pull request #${pr.number} comes from a fork (${pr.head?.repo?.full_name}); forks get no secrets or OIDC token, so no preview is ${job === 'preview' ? 'deployed' : 'there to tear down'}`,
        };
      return job === 'preview'
        ? { job, pr: pr.number, sha: pr.head?.sha ?? context.sha }
        : { job, pr: pr.number };
    }
    case 'sweep':
    case 'rollback':
      return { job };
  }
}

function jobForEvent(context: EventContext): Exclude<Mode, 'auto'> | Route {
  switch (context.eventName) {
    case 'push':
      return 'deploy';
    case 'pull_request':
    case 'pull_request_target': {
      const action = context.payload.action ?? '';
      if (previewActions.has(action)) return 'preview';
      if (action === 'closed') return 'teardown';
      return { job: 'skip', reason: `pull_request action '${action}' needs no preview change` };
    }
    case 'workflow_dispatch':
      return 'rollback';
    case 'schedule':
      return 'sweep';
    default:
      throw new Error(
        `event '${context.eventName}' has no default job; set input mode to deploy, preview, teardown, sweep or rollback`,
      );
  }
}
