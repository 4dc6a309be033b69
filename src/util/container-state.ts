/** A container's state in one phrase, for the log and the job summary: "waiting, CrashLoopBackOff, exit code 1". */
export function containerState(c: {
  state: string;
  ready: boolean;
  reason?: string;
  exitCode?: number;
  message?: string;
  lastTermination?: { reason?: string; exitCode?: number };
}): string {
  const parts: string[] = [c.state];
  if (c.reason) parts.push(c.reason);
  if (c.exitCode !== undefined) parts.push(`exit code ${c.exitCode}`);
  if (c.message) parts.push(c.message);
  if (c.lastTermination)
    parts.push(`last exit: ${c.lastTermination.reason ?? '?'} code ${c.lastTermination.exitCode ?? '?'}`);
  if (c.state === 'running') parts.push(c.ready ? 'ready' : 'not ready');
  return parts.join(', ');
}
