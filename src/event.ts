import type { Mode } from './settings.js';

// Which job this run does, decided from the event alone (pure, so every event fixture can be tested).

export interface EventContext {
  eventName: string;
  sha: string;
  ref: string;
  actor?: string;
  payload: {
    action?: string;
    deleted?: boolean;
    after?: string;
    repository?: { full_name?: string; default_branch?: string };
    workflow_run?: {
      event?: string;
      head_sha?: string;
      html_url?: string;
      conclusion?: string | null;
      head_repository?: { full_name?: string } | null;
      pull_requests?: { number?: number }[];
    };
    pull_request?: {
      number?: number;
      user?: { login?: string } | null;
      head?: { sha?: string; ref?: string; repo?: { full_name?: string } | null };
    };
    [key: string]: unknown;
  };
}

/** The inputs that decide the job, read before any other (a fork's run has no variables to fill the rest). */
export interface Routing {
  mode: Mode;
  /** branch globs whose pushes mode auto deploys; empty: the default branch only */
  deployBranches: string[];
  /** tag globs whose pushes mode auto deploys; empty: none */
  deployTags: string[];
}

export type Route =
  | { job: 'deploy'; sha: string; defaultBranch: boolean }
  | { job: 'preview'; pr: number; sha: string }
  /** pr is undefined when a dispatch names the preview in input 'environment' */
  | { job: 'teardown'; pr?: number }
  | { job: 'sweep' }
  | { job: 'rollback' }
  /** production's canary, paused for review by canary-pause: taken on to 100 %, or back to stable */
  | { job: 'promote' }
  | { job: 'abort' }
  /** a preview run's outcome, published from the default branch's code (a workflow_run) */
  | { job: 'report'; pr: number; sha: string; runUrl: string; conclusion: string }
  | { job: 'skip'; reason: string };

const previewActions = new Set(['opened', 'synchronize', 'reopened']);
const zeroSha = /^0{40}$|^0{64}$/;
// Pull requests these accounts open get no secrets and no OIDC token, as forks get none.
const tokenlessActors = new Set(['dependabot[bot]', 'dependabot-preview[bot]']);

export function route(context: EventContext, routing: Routing | Mode): Route {
  const { mode, deployBranches, deployTags } =
    typeof routing === 'string' ? { mode: routing, deployBranches: [], deployTags: [] } : routing;
  const pr = context.payload.pull_request;
  const job = mode === 'auto' ? jobForEvent(context, deployBranches, deployTags) : mode;
  if (typeof job !== 'string') return job;

  switch (job) {
    case 'deploy': {
      if (context.eventName === 'push' && isDeletion(context))
        return { job: 'skip', reason: `${context.ref} was deleted: there is no commit to deploy` };
      return { job, sha: context.sha, defaultBranch: isDefaultBranch(context) };
    }
    case 'preview':
    case 'teardown': {
      if (!pr?.number) {
        if (job === 'teardown') return { job };
        throw new Error(
          `mode 'preview' needs a pull_request event, this run is '${context.eventName}'; use mode rollback, teardown or sweep with input environment instead`,
        );
      }
      const without = withoutCredentials(context);
      if (without)
        return {
          job: 'skip',
          reason: `pull request #${pr.number} ${without}; such runs get no secrets or OIDC token, so no preview is ${job === 'preview' ? 'deployed' : 'there to tear down'}`,
        };
      return job === 'preview'
        ? { job, pr: pr.number, sha: pr.head?.sha ?? context.sha }
        : { job, pr: pr.number };
    }
    case 'sweep':
    case 'rollback':
    case 'promote':
    case 'abort':
      return { job };
    case 'report':
      return reportJob(context);
  }
}

/** The preview run a workflow_run event is about, from the event alone (never from what that run wrote). */
function reportJob(context: EventContext): Route {
  const run = context.payload.workflow_run;
  if (!run)
    throw new Error(
      `mode 'report' needs a workflow_run event (on: workflow_run, workflows: [preview]), this run is '${context.eventName}'`,
    );
  if (run.event !== 'pull_request')
    return {
      job: 'skip',
      reason: `the run was started by '${run.event}', not by a pull request: no preview to report`,
    };
  const pr = run.pull_requests?.[0]?.number;
  if (!pr || run.head_repository?.full_name !== context.payload.repository?.full_name)
    return { job: 'skip', reason: 'the run was for a pull request from a fork, which gets no preview' };
  return {
    job: 'report',
    pr,
    sha: run.head_sha ?? '',
    runUrl: run.html_url ?? '',
    conclusion: run.conclusion ?? '',
  };
}

/** Why this pull request's run holds no credentials, or undefined when it does. */
function withoutCredentials(context: EventContext): string | undefined {
  const pr = context.payload.pull_request;
  const head = pr?.head?.repo;
  // a deleted fork leaves head.repo null: still a fork, never the base repository
  if (head === null || head === undefined) return 'comes from a repository that was deleted (a fork)';
  if (head.full_name !== context.payload.repository?.full_name)
    return `comes from a fork (${head.full_name ?? 'unknown'})`;
  for (const login of [context.actor, pr?.user?.login])
    if (login && tokenlessActors.has(login)) return `was opened or updated by ${login}`;
  return undefined;
}

function jobForEvent(
  context: EventContext,
  deployBranches: string[],
  deployTags: string[],
): Exclude<Mode, 'auto'> | Route {
  switch (context.eventName) {
    case 'push':
      return pushJob(context, deployBranches, deployTags);
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
    case 'workflow_run':
      return 'report';
    default:
      throw new Error(
        `event '${context.eventName}' has no default job; set input mode to deploy, preview, teardown, sweep, rollback or report`,
      );
  }
}

/** Production takes pushes to the default branch, and the branches and tags the inputs add; nothing else. */
function pushJob(context: EventContext, deployBranches: string[], deployTags: string[]): 'deploy' | Route {
  const skip = (reason: string): Route => ({ job: 'skip', reason });
  if (isDeletion(context)) return skip(`${context.ref} was deleted: there is no commit to deploy`);
  const branch = /^refs\/heads\/(.+)$/.exec(context.ref)?.[1];
  const tag = /^refs\/tags\/(.+)$/.exec(context.ref)?.[1];
  if (branch !== undefined) {
    if (isDefaultBranch(context) || deployBranches.some((glob) => globMatch(glob, branch))) return 'deploy';
    return skip(
      `a push to branch '${branch}' is not deployed: production takes the default branch${deployBranches.length ? ` and ${deployBranches.join(', ')}` : ''} (input 'deploy-branches')`,
    );
  }
  if (tag !== undefined) {
    if (deployTags.some((glob) => globMatch(glob, tag))) return 'deploy';
    return skip(
      `a push of tag '${tag}' is not deployed: ${deployTags.length ? `only tags matching ${deployTags.join(', ')} are` : 'no tags are'} (input 'deploy-tags')`,
    );
  }
  return skip(`a push to '${context.ref}' is neither a branch nor a tag: nothing to deploy`);
}

function isDeletion(context: EventContext): boolean {
  return context.payload.deleted === true || zeroSha.test(context.payload.after ?? '');
}

function isDefaultBranch(context: EventContext): boolean {
  const defaultBranch = context.payload.repository?.default_branch;
  return defaultBranch !== undefined && context.ref === `refs/heads/${defaultBranch}`;
}

/** GitHub's filter patterns, the part refs need: '*' within a path segment, '**' across segments. */
export function globMatch(glob: string, name: string): boolean {
  let pattern = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      pattern += '.*';
      i++;
    } else if (c === '*') pattern += '[^/]*';
    else pattern += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`).test(name);
}
