import { containerState } from '../util/container-state.js';
import { htmlText, mdText, preBlock } from '../util/markdown.js';

// The diagnosis of a failed rollout (kube/diagnosis/diagnose.ts) as Markdown for the job summary: the report's own
// view of it, the fields it shows.

interface ContainerView {
  name: string;
  state: string;
  ready: boolean;
  restarts: number;
  reason?: string;
  message?: string;
  exitCode?: number;
  lastTermination?: { reason?: string; exitCode?: number };
  /** its last log lines: the pull request's words, shown only in the run's summary */
  log?: string[];
}

export interface DiagnosisView {
  summary: string;
  revision: number;
  previousRevision?: number;
  pods: {
    name: string;
    phase: string;
    ready: boolean;
    unschedulable?: string;
    containers: ContainerView[];
  }[];
  changes: { field: string; before: string; after: string }[];
  events: { last: string; type: string; reason: string; object: string; message: string; count: number }[];
}

/** Markdown for the job summary. */
export function diagnosisMarkdown(d: DiagnosisView): string {
  const cell = mdText;
  const out = [`**${cell(d.summary)}**`, ''];
  if (d.pods.length > 0) {
    out.push(
      '| Pod | Phase | Ready | Container | State | Restarts |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const p of d.pods)
      for (const c of p.containers)
        out.push(
          `| ${cell(p.name)} | ${cell(p.phase)}${p.unschedulable !== undefined ? ` (unschedulable: ${cell(p.unschedulable)})` : ''} | ${p.ready ? 'yes' : 'no'} | ${cell(c.name)} | ${cell(containerState(c))} | ${c.restarts} |`,
        );
    out.push('');
  }
  if (d.changes.length > 0) {
    out.push(
      `What changed from revision ${d.previousRevision} to ${d.revision}:`,
      '',
      `| Field | Revision ${d.previousRevision} | Revision ${d.revision} |`,
      '| --- | --- | --- |',
      ...d.changes.map((c) => `| ${cell(c.field)} | ${cell(c.before)} | ${cell(c.after)} |`),
      '',
    );
  }
  for (const p of d.pods)
    for (const c of p.containers)
      if (c.log && c.log.length > 0)
        out.push(
          `<details><summary>Log of ${htmlText(p.name)} / ${htmlText(c.name)}</summary>`,
          '',
          preBlock(c.log),
          '</details>',
          '',
        );
  if (d.events.length > 0) {
    out.push('| When | Type | Reason | Object | Message |', '| --- | --- | --- | --- | --- |');
    for (const e of d.events)
      out.push(
        `| ${cell(e.last)} | ${cell(e.type)} | ${cell(e.reason)} | ${cell(e.object)} | ${cell(e.message)}${e.count > 1 ? ` (x${e.count})` : ''} |`,
      );
  }
  return out.join('\n');
}
