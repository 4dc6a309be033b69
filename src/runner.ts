// What the runner says about this run (its GITHUB_* variables), read at the edge: who holds a deploy lock,
// and where the run stands in its workflow's sequence, so that an older commit never deploys over a newer.

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
