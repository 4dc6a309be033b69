import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { InputReader } from '../../src/settings.js';

interface ActionYaml {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, unknown>;
}

export const actionYaml = parse(
  readFileSync(new URL('../../action.yml', import.meta.url), 'utf8'),
) as ActionYaml;

/** The inputs as the runner would pass them: action.yml's defaults, then the given values. */
export function actionInputs(values: Record<string, string>): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(actionYaml.inputs)) {
    const fallback = spec.default ?? '';
    inputs[name] = fallback.includes('${{') ? '' : fallback;
  }
  for (const [name, value] of Object.entries(values)) {
    if (!(name in actionYaml.inputs))
      throw new Error(`test uses input '${name}' that action.yml does not declare`);
    inputs[name] = value;
  }
  return inputs;
}

/** An InputReader over actionInputs(), refusing any name action.yml does not declare. */
export function readerFor(values: Record<string, string>): InputReader {
  const inputs = actionInputs(values);
  const get = (name: string) => {
    if (!(name in inputs))
      throw new Error(`the action reads input '${name}' that action.yml does not declare`);
    return inputs[name] ?? '';
  };
  return {
    get,
    getBoolean: (name) => {
      const value = get(name).trim();
      if (['true', 'True', 'TRUE'].includes(value)) return true;
      if (['false', 'False', 'FALSE'].includes(value)) return false;
      throw new TypeError(`Input does not meet YAML 1.2 "Core Schema" specification: ${name}`);
    },
  };
}

/** Environment for running dist/index.js as the runner does: INPUT_<NAME> per input. */
export function inputEnv(values: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(actionInputs(values)))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return env;
}
