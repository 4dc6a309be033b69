import { existsSync, readFileSync } from 'node:fs';
import type { EventContext } from './event.js';

// What the runner says about this run (its GITHUB_* variables), read at the edge: the event, who holds a
// deploy lock, and where the run stands in its workflow's sequence, so that an older commit never deploys
// over a newer.

export interface DeployOrder {
  /** the workflow file, without the ref: run numbers count per workflow */
  workflow: string;
  run: number;
}

export interface RunIdentity {
  /** GITHUB_RUN_ID.GITHUB_RUN_ATTEMPT, 'local.1' outside GitHub */
  id: string;
  /** the commit the run deploys, or the run's own for a rollback, teardown or sweep */
  sha: string;
  /** undefined outside GitHub: a local run orders nothing */
  order?: DeployOrder;
}

export function thisRun(env: NodeJS.ProcessEnv = process.env): RunIdentity {
  const run = Number(env.GITHUB_RUN_NUMBER);
  const workflow = (env.GITHUB_WORKFLOW_REF ?? '').replace(/@.*$/, '') || env.GITHUB_WORKFLOW || '';
  return {
    id: `${env.GITHUB_RUN_ID ?? 'local'}.${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
    sha: env.GITHUB_SHA ?? '',
    ...(Number.isInteger(run) && run > 0 && workflow ? { order: { workflow, run } } : {}),
  };
}

export interface RunEvent extends EventContext {
  /** GITHUB_SERVER_URL, https://github.com by default */
  serverUrl: string;
  /** GITHUB_RUN_ID, 0 outside GitHub */
  runId: number;
}

/**
 * The event that started the run, read as @actions/github's context reads it (the payload from
 * GITHUB_EVENT_PATH): without loading octokit, which only runs that talk to GitHub need.
 */
export function runEvent(env: NodeJS.ProcessEnv = process.env): RunEvent {
  const path = env.GITHUB_EVENT_PATH;
  let payload: EventContext['payload'] = {};
  if (path && existsSync(path)) {
    try {
      payload = JSON.parse(readFileSync(path, 'utf8')) as EventContext['payload'];
    } catch (error) {
      throw new Error(
        `GITHUB_EVENT_PATH ${path} is not JSON (${error instanceof Error ? error.message : String(error)}): the runner writes the event payload there`,
        { cause: error },
      );
    }
  }
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    ...(env.GITHUB_ACTOR ? { actor: env.GITHUB_ACTOR } : {}),
    payload,
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    runId: Number.parseInt(env.GITHUB_RUN_ID ?? '', 10) || 0,
  };
}
