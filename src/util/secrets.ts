import * as core from '@actions/core';

// Every credential the action holds is registered here: the runner masks it in the job log, and redact()
// masks it in what the runner does not filter (the job summary, where pod logs are shown).

const secrets = new Set<string>();
let onRunner = true;

/**
 * Outside a workflow run (the setup command in a terminal) no runner reads `::add-mask::` lines, and printing
 * one would show the very token it masks: secrets are then only kept for redact().
 */
export function notOnRunner(): void {
  onRunner = false;
}

export function maskSecret(value: string): void {
  if (!value) return;
  if (onRunner) core.setSecret(value);
  // the runner masks line by line; so does redact
  for (const line of value.split(/\r?\n/)) if (line.trim().length > 3) secrets.add(line.trim());
}

/** The text with every registered secret replaced by ***, as the runner shows it in the log. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}
