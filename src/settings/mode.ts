import type { Routing } from '../event.js';
import { actionsInputs, type InputReader, Inputs } from './inputs.js';

// The inputs that route a run, read alone and before the others: a fork's run has no variables, so a job
// that will be skipped must not fail on the inputs it would have needed.

export const modes = [
  'auto',
  'deploy',
  'preview',
  'teardown',
  'sweep',
  'rollback',
  'report',
  'promote',
  'abort',
] as const;
export type Mode = (typeof modes)[number];

/** The mode alone: the job is routed before the other inputs are checked (a fork's run has no variables). */
export function getMode(inputs: InputReader = actionsInputs): Mode {
  const value = inputs.get('mode').trim();
  if (!(modes as readonly string[]).includes(value))
    throw new Error(`Invalid inputs:\n- input 'mode': '${value}' is not one of ${modes.join(', ')}`);
  return value as Mode;
}

const refGlob = /^[A-Za-z0-9._/*-]+$/;

/** The inputs that route the run, checked alone and first, like the mode. */
export function getRouting(reader: InputReader = actionsInputs): Routing {
  const inputs = new Inputs(reader);
  const globs = (name: string, what: string, example: string): string[] => {
    const values = inputs.list(name, /[\n,]/);
    for (const v of values)
      if (!refGlob.test(v) || v.startsWith('refs/'))
        inputs.fail(
          name,
          `'${v}' is not a ${what} name or glob (letters, digits, . _ - / and *, without refs/...), e.g. ${example}`,
        );
    return values;
  };
  const routing = {
    mode: inputs.oneOf('mode', modes),
    deployBranches: globs('deploy-branches', 'branch', 'release/*'),
    deployTags: globs('deploy-tags', 'tag', 'v*'),
  };
  inputs.throwIfInvalid();
  return routing;
}
