import { readFileSync, writeFileSync } from 'node:fs';
import type { Outcome } from './publish.js';

// A preview's outcome, handed from the pull request's run to a trusted one. The preview job runs the pull
// request's code, so it gets no token that writes to GitHub: it writes this file (input report-file), and a
// workflow_run job on the default branch's code publishes it (mode report). Everything in the file is the
// pull request's word: the report job takes the pull request and commit from its own event, and keeps from
// the file only what has the one shape a real deploy of that preview gives.

export interface PreviewReport {
  version: 1;
  pr: number;
  sha: string;
  state: 'success' | 'failure';
  url: string;
  image: string;
  digest: string;
  revision: number;
  /** the diagnosis without pod logs, or the error's first line */
  summary: string;
}

/** Writes the report of a preview deploy (the runner's temp folder, then an artifact). */
export function writePreviewReport(file: string, report: Omit<PreviewReport, 'version'>): void {
  writeFileSync(file, `${JSON.stringify({ version: 1, ...report }, null, 2)}\n`);
}

/** What the report job trusts: its own event's pull request and commit, and the preview's names. */
export interface ReportExpectation {
  pr: number;
  sha: string;
  /** pr-<n>.<preview-domain>, or '' when previews get no host */
  host: string;
  /** <registry>/<preview image name> */
  repository: string;
}

export interface CheckedReport {
  state: 'success' | 'failure';
  outcome: Outcome;
  summary: string;
  /** what was in the file but did not have the expected shape, dropped */
  dropped: string[];
}

const maxSummary = 600;

/**
 * Reads and checks a report: a file for another pull request or commit is refused whole; a field that is
 * not what a deploy of this preview gives is dropped (named in `dropped`); the summary is one line of plain
 * text, cut to 600 characters. The comment renders it literally (util/markdown).
 */
export function readPreviewReport(file: string, expected: ReportExpectation): CheckedReport {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `the preview's report ${file} is not readable JSON (${error instanceof Error ? error.message : String(error)}): nothing is published from it`,
      { cause: error },
    );
  }
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if (r.version !== 1)
    throw new Error(`the preview's report ${file} has version ${JSON.stringify(r.version)}, not 1`);
  if (r.pr !== expected.pr || r.sha !== expected.sha)
    throw new Error(
      `the preview's report ${file} is for pull request ${JSON.stringify(r.pr)} at ${JSON.stringify(r.sha)}, but the run it came from was pull request #${expected.pr} at ${expected.sha}: nothing is published from it`,
    );
  const dropped: string[] = [];
  const keep = <T>(name: string, value: unknown, ok: (v: unknown) => v is T, empty: T): T => {
    if (value === undefined || value === '' || value === 0) return empty;
    if (ok(value)) return value;
    dropped.push(name);
    return empty;
  };
  const isString = (v: unknown): v is string => typeof v === 'string';
  const url = keep(
    'url',
    r.url,
    (v): v is string => isString(v) && expected.host !== '' && urlOfHost(v, expected.host),
    '',
  );
  const digestShape = /^sha256:[0-9a-f]{64}$/;
  const digest = keep('digest', r.digest, (v): v is string => isString(v) && digestShape.test(v), '');
  const image = keep(
    'image',
    r.image,
    (v): v is string =>
      isString(v) &&
      v.startsWith(`${expected.repository}@`) &&
      digestShape.test(v.slice(expected.repository.length + 1)),
    '',
  );
  const revision = keep(
    'revision',
    r.revision,
    (v): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) < 1e9,
    0,
  );
  const state = r.state === 'success' ? 'success' : 'failure';
  const summary = isString(r.summary)
    ? r.summary
        .replace(/[\s\p{Cc}]+/gu, ' ')
        .trim()
        .slice(0, maxSummary)
    : '';
  return { state, outcome: { url, image, digest, revision }, summary, dropped };
}

/** http(s)://<host>/<path>: the preview's own host, nothing else (no user, port or query). */
function urlOfHost(value: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.host === host &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    /^\/[A-Za-z0-9._~/-]*$/.test(url.pathname)
  );
}
