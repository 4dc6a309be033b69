import { mdText as text } from '../util/markdown.js';
import { call, type GitHub } from './client.js';

// One sticky comment per pull request (REST API "Issue comments"): created on the first preview, then
// edited in place, found again by a hidden marker. Nothing the pull request's author wrote is quoted in it.

export type PreviewStatus = 'deployed' | 'failed' | 'rolled back' | 'removed';

export interface CommentState {
  /** 'pr-<n>' */
  environment: string;
  status: PreviewStatus;
  url?: string;
  image?: string;
  digest?: string;
  revision?: number;
  commit?: string;
  /** the one-line diagnosis of a failure, or why the preview was removed */
  detail?: string;
  runUrl?: string;
  at: Date;
}

const permission = 'pull-requests: write';
const maxPages = 20;

/** The hidden line that finds the comment again; one per app, so two apps in a repository keep theirs. */
export function commentMarker(appName: string): string {
  return `<!-- archetype-deploy:${appName} -->`;
}

const icons: Record<PreviewStatus, string> = {
  deployed: '✅',
  failed: '❌',
  'rolled back': '↩️',
  removed: '🗑️',
};

/** The comment's markdown (pure). */
export function commentBody(appName: string, s: CommentState): string {
  const rows: [string, string][] = [['Status', s.status]];
  if (s.url) rows.push(['URL', `[${text(s.url)}](${encodeURI(s.url)})`]);
  if (s.image) rows.push(['Image', code(s.image)]);
  if (s.digest) rows.push(['Digest', code(s.digest)]);
  if (s.revision) rows.push(['Revision', String(s.revision)]);
  if (s.commit) rows.push(['Commit', code(s.commit.slice(0, 12))]);
  if (s.runUrl) rows.push(['Run', `[workflow run](${encodeURI(s.runUrl)})`]);
  const lines = [
    commentMarker(appName),
    `### ${icons[s.status]} Preview \`${text(s.environment)}\` of ${text(appName)}: ${s.status}`,
    '',
  ];
  if (s.detail) lines.push(`> ${text(s.detail)}`, '');
  lines.push('| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '');
  lines.push(`<sub>Updated ${s.at.toISOString()} by archetype-deploy.</sub>`);
  return lines.join('\n');
}

/**
 * Edits the pull request's comment with the marker, or creates it. With createIfMissing false (a teardown
 * of a preview that never commented) nothing is created. Returns what was done.
 */
export async function upsertComment(
  gh: GitHub,
  pr: number,
  appName: string,
  body: string,
  options: { createIfMissing: boolean },
): Promise<'created' | 'updated' | 'none'> {
  const existing = await findComment(gh, pr, commentMarker(appName));
  if (existing !== undefined) {
    await call(gh, `update comment ${existing} on pull request #${pr}`, permission, (o) =>
      o.rest.issues.updateComment({ owner: gh.owner, repo: gh.repo, comment_id: existing, body }),
    );
    return 'updated';
  }
  if (!options.createIfMissing) return 'none';
  await call(gh, `comment on pull request #${pr}`, permission, (o) =>
    o.rest.issues.createComment({ owner: gh.owner, repo: gh.repo, issue_number: pr, body }),
  );
  return 'created';
}

async function findComment(gh: GitHub, pr: number, marker: string): Promise<number | undefined> {
  // only the token's own comments: anyone can write the marker, and their comment must not be taken over. An
  // installation token (the job's GITHUB_TOKEN, a GitHub App's) cannot say who it is: any app's comment then
  const self = await authorLogin(gh);
  const own = (c: { user?: { login?: string; type?: string } | null }) =>
    self === undefined ? c.user?.type === 'Bot' : c.user?.login === self;
  // bounded: maxPages x 100 comments, oldest first; the first comment with the marker is the sticky one
  for (let page = 1; page <= maxPages; page++) {
    const comments = await call(gh, `list the comments of pull request #${pr}`, permission, (o) =>
      o.rest.issues.listComments({ owner: gh.owner, repo: gh.repo, issue_number: pr, per_page: 100, page }),
    );
    const found = comments.find((c) => own(c) && c.body?.startsWith(marker));
    if (found) return found.id;
    if (comments.length < 100) return undefined;
  }
  return undefined;
}

/**
 * Who the token writes as. A user's token (a PAT) names itself at GET /user; an installation token (the job's
 * GITHUB_TOKEN as github-actions[bot], a GitHub App's as <app>[bot]) is refused there (403 "Resource not
 * accessible by integration"): undefined, any app. Asked once per run.
 */
const logins = new WeakMap<GitHub, Promise<string | undefined>>();
export function authorLogin(gh: GitHub): Promise<string | undefined> {
  let login = logins.get(gh);
  if (!login) {
    login = gh.octokit.rest.users.getAuthenticated().then(
      (r) => r.data.login,
      (error: { status?: number }) => {
        if (error.status === 403) return undefined;
        throw error;
      },
    );
    logins.set(gh, login);
  }
  return login;
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}
