import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRepositorySettings } from './github-setup-routes.js';

// A local stand-in for the part of the GitHub REST API the action calls, answering as GitHub documents it
// (https://docs.github.com/en/rest, API version 2022-11-28):
// - Deployments: POST/GET /repos/{owner}/{repo}/deployments           (rest/deployments/deployments)
// - Deployment statuses: POST/GET .../deployments/{id}/statuses        (rest/deployments/statuses)
// - Issue comments: GET/POST /repos/{owner}/{repo}/issues/{n}/comments, PATCH .../issues/comments/{id}
//                                                                      (rest/issues/comments)
// - Pull requests: GET /repos/{owner}/{repo}/pulls/{n}                 (rest/pulls/pulls#get-a-pull-request)
// - Repository settings (environments, variables, rulesets, OIDC template, workflow permissions) that
//   `archetype-deploy setup` reads and writes: github-setup-routes.ts, seeded through `settings`
// - Users and teams setup resolves required reviewers with: GET /users/{username} (users/get-by-username),
//   GET /orgs/{org}/teams/{team_slug} (teams/get-by-name): github-directory.ts, `settings.directory`
// - Pagination: per_page / page query, Link header with rel="next"     (rest/using-the-rest-api/using-pagination-in-the-rest-api)
// - Errors: {"message", "documentation_url"} with 401 Bad credentials, 404 Not Found, 422 Validation Failed.
// - Rate limits (rest/using-the-rest-api/rate-limits-for-the-rest-api): every answer carries x-ratelimit-limit,
//   -remaining, -used, -reset (UTC epoch seconds) and -resource; a primary limit is 403 with
//   x-ratelimit-remaining: 0 and "API rate limit exceeded for installation ID …"; a secondary one is 403 with
//   "You have exceeded a secondary rate limit. …" and, when GitHub gives one, retry-after (seconds). A test
//   asks for them with rateLimit().
// It keeps state in memory and records every request (method, path, query, body, when, what it was refused
// for) for the tests to assert, and the most writes it ever had in flight at once.

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** Date.now() when it arrived */
  at: number;
  /** answered with a rate limit instead */
  limited?: 'primary' | 'secondary';
}

/** Rate-limit answers a test asks for: the next `times` requests that match get them. */
export interface RateLimitAnswer {
  kind: 'primary' | 'secondary';
  /** how many matching requests are refused (default 1) */
  times?: number;
  /** secondary: the retry-after header in seconds; undefined: none (GitHub then means "at least a minute") */
  retryAfter?: number;
  /** primary: x-ratelimit-reset this many seconds from now (default 3600) */
  resetInSeconds?: number;
  /** only requests with this method (e.g. 'POST'), and whose path matches */
  method?: string;
  path?: RegExp;
  /** 403 (default) or 429: GitHub documents both */
  status?: 403 | 429;
}

export interface FakeDeployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  payload: unknown;
  production_environment: boolean;
  transient_environment: boolean;
  created_at: string;
  statuses: FakeStatus[];
}

export interface FakeStatus {
  id: number;
  state: string;
  description: string;
  environment_url: string;
  log_url: string;
  created_at: string;
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: string };
  issue: number;
  created_at: string;
  updated_at: string;
}

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  readonly deployments: FakeDeployment[] = [];
  readonly comments: FakeComment[] = [];
  /** pull request number -> state; a number not here answers 404 */
  readonly pulls = new Map<number, 'open' | 'closed'>();
  /** the repository's settings setup reads and writes (github-setup-routes.ts): seed() them per test */
  readonly settings: FakeRepositorySettings;
  /** set: the token is a user's (GET /user names them, comments are theirs); unset: the job's GITHUB_TOKEN */
  userLogin: string | undefined;
  /** who an installation token writes as: the job's GITHUB_TOKEN, or a GitHub App's (<app-slug>[bot]) */
  botLogin = 'github-actions[bot]';
  /** how long each answer takes, so that requests sent at once overlap here */
  latencyMs = 0;
  /** the most POST/PATCH/PUT/DELETE requests this server was answering at the same time */
  maxWritesInFlight = 0;
  private writesInFlight = 0;
  private limits: (RateLimitAnswer & { left: number })[] = [];
  private used = 0;
  private readonly hourly = 1000; // GITHUB_TOKEN: 1,000 requests an hour per repository
  private readonly resetAt = Math.floor(Date.now() / 1000) + 3600;
  private nextId = 1000;
  private server: Server | undefined;

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly token: string,
  ) {
    this.settings = new FakeRepositorySettings(owner, repo);
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the fake GitHub server is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests to paths ending with the suffix, e.g. '/deployments' */
  made(method: string, pathSuffix: string | RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) =>
        r.method === method &&
        (typeof pathSuffix === 'string' ? r.path.endsWith(pathSuffix) : pathSuffix.test(r.path)),
    );
  }

  /** Answers the next matching request(s) with a rate limit, as GitHub does. */
  rateLimit(answer: RateLimitAnswer): void {
    this.limits.push({ ...answer, left: answer.times ?? 1 });
  }

  forEnvironment(environment: string): FakeDeployment[] {
    return this.deployments.filter((d) => d.environment === environment);
  }

  /** A deployment made earlier (by an earlier run), with its statuses oldest first. */
  addDeployment(environment: string, states: string[]): FakeDeployment {
    const at = new Date().toISOString();
    const deployment: FakeDeployment = {
      id: this.nextId++,
      ref: 'a'.repeat(40),
      sha: 'a'.repeat(40),
      environment,
      description: 'an earlier deploy',
      payload: {},
      production_environment: environment === 'production',
      transient_environment: environment !== 'production',
      created_at: at,
      statuses: states.map((state) => ({
        id: this.nextId++,
        state,
        description: '',
        environment_url: '',
        log_url: '',
        created_at: at,
      })),
    };
    this.deployments.push(deployment);
    return deployment;
  }

  /** A comment written by someone else, as a pull request's conversation has. */
  addComment(issue: number, body: string, login = 'octocat'): void {
    const at = new Date().toISOString();
    this.comments.push({
      id: this.nextId++,
      body,
      user: { login, type: 'User' },
      issue,
      created_at: at,
      updated_at: at,
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const write = !['GET', 'HEAD'].includes(req.method ?? 'GET');
    if (write) {
      this.writesInFlight++;
      this.maxWritesInFlight = Math.max(this.maxWritesInFlight, this.writesInFlight);
      res.on('close', () => {
        this.writesInFlight--;
      });
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(req);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    const query = Object.fromEntries(url.searchParams.entries());
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query,
      body,
      at: Date.now(),
    };
    this.requests.push(recorded);
    if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    this.used++;
    res.setHeader('x-ratelimit-limit', String(this.hourly));
    res.setHeader('x-ratelimit-remaining', String(Math.max(0, this.hourly - this.used)));
    res.setHeader('x-ratelimit-used', String(this.used));
    res.setHeader('x-ratelimit-reset', String(this.resetAt));
    res.setHeader('x-ratelimit-resource', 'core');

    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`)
      return send(res, 401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
      });

    const limit = this.limits.find(
      (l) => l.left > 0 && (!l.method || l.method === req.method) && (!l.path || l.path.test(url.pathname)),
    );
    if (limit) {
      limit.left--;
      recorded.limited = limit.kind;
      return limited(res, limit);
    }

    const setting = this.settings.answer(req.method ?? 'GET', url, this.url, body);
    if (setting) {
      if (setting.body === undefined) {
        res.writeHead(setting.status, setting.headers);
        res.end();
        return;
      }
      return send(res, setting.status, setting.body, setting.headers);
    }
    // rest/users/users#get-the-authenticated-user: a user's token gets its user; the job's GITHUB_TOKEN (an
    // installation token, which these fakes stand for) gets 403 "Resource not accessible by integration"
    if (url.pathname === '/user' && req.method === 'GET')
      return this.userLogin
        ? send(res, 200, { login: this.userLogin, type: 'User' })
        : send(res, 403, {
            message: 'Resource not accessible by integration',
            documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
          });
    const base = `/repos/${this.owner}/${this.repo}`;
    if (!url.pathname.startsWith(`${base}/`)) return notFound(res);
    const path = url.pathname.slice(base.length);
    const at = new Date().toISOString();
    const statusesOf = /^\/deployments\/(\d+)\/statuses$/.exec(path);
    const commentsOf = /^\/issues\/(\d+)\/comments$/.exec(path);
    const commentId = /^\/issues\/comments\/(\d+)$/.exec(path);
    const pullNumber = /^\/pulls\/(\d+)$/.exec(path);

    if (path === '/deployments' && req.method === 'POST') {
      if (typeof body?.ref !== 'string' || !body.ref) return invalid(res, 'ref', 'missing_field');
      const deployment: FakeDeployment = {
        id: this.nextId++,
        ref: body.ref,
        sha: body.ref,
        environment: typeof body.environment === 'string' ? body.environment : 'production',
        description: typeof body.description === 'string' ? body.description : null,
        payload: body.payload ?? {},
        production_environment: body.production_environment === true,
        transient_environment: body.transient_environment === true,
        created_at: at,
        statuses: [],
      };
      this.deployments.push(deployment);
      return send(res, 201, this.deploymentJson(deployment));
    }
    if (path === '/deployments' && req.method === 'GET') {
      const matching = this.deployments
        .filter((d) => !query.environment || d.environment === query.environment)
        .filter((d) => !query.ref || d.ref === query.ref)
        .reverse(); // newest first
      return this.page(
        res,
        url,
        matching.map((d) => this.deploymentJson(d)),
      );
    }
    if (statusesOf) {
      const deployment = this.deployments.find((d) => d.id === Number(statusesOf[1]));
      if (!deployment) return notFound(res);
      if (req.method === 'GET')
        return this.page(
          res,
          url,
          [...deployment.statuses].reverse().map((s) => this.statusJson(deployment, s)),
        );
      if (req.method !== 'POST') return notFound(res);
      const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
      if (typeof body?.state !== 'string' || !states.includes(body.state))
        return invalid(res, 'state', 'invalid');
      const status: FakeStatus = {
        id: this.nextId++,
        state: body.state,
        description: typeof body.description === 'string' ? body.description : '',
        environment_url: typeof body.environment_url === 'string' ? body.environment_url : '',
        log_url: typeof body.log_url === 'string' ? body.log_url : '',
        created_at: at,
      };
      deployment.statuses.push(status);
      return send(res, 201, this.statusJson(deployment, status));
    }
    if (commentsOf) {
      const issue = Number(commentsOf[1]);
      if (req.method === 'GET')
        return this.page(
          res,
          url,
          this.comments.filter((c) => c.issue === issue).map((c) => this.commentJson(c)),
        );
      if (req.method !== 'POST') return notFound(res);
      if (typeof body?.body !== 'string' || !body.body) return invalid(res, 'body', 'missing_field');
      const comment: FakeComment = {
        id: this.nextId++,
        body: body.body,
        user: this.userLogin
          ? { login: this.userLogin, type: 'User' }
          : { login: this.botLogin, type: 'Bot' },
        issue,
        created_at: at,
        updated_at: at,
      };
      this.comments.push(comment);
      return send(res, 201, this.commentJson(comment));
    }
    if (commentId && req.method === 'PATCH') {
      const comment = this.comments.find((c) => c.id === Number(commentId[1]));
      if (!comment) return notFound(res);
      if (comment.user.login !== (this.userLogin ?? this.botLogin))
        return send(res, 403, { message: 'Resource not accessible by integration', documentation_url: '' });
      if (typeof body?.body !== 'string' || !body.body) return invalid(res, 'body', 'missing_field');
      comment.body = body.body;
      comment.updated_at = at;
      return send(res, 200, this.commentJson(comment));
    }
    if (pullNumber && req.method === 'GET') {
      const number = Number(pullNumber[1]);
      const state = this.pulls.get(number);
      if (!state) return notFound(res);
      return send(res, 200, {
        url: `${this.url}${base}/pulls/${number}`,
        number,
        state,
        locked: false,
        title: 'a pull request',
        merged: false,
        updated_at: at,
      });
    }
    return notFound(res);
  }

  private page(res: ServerResponse, url: URL, items: unknown[]): void {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30) || 30, 100);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(url.toString(), this.url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    send(res, 200, slice, headers);
  }

  private deploymentJson(d: FakeDeployment) {
    const url = `${this.url}/repos/${this.owner}/${this.repo}/deployments/${d.id}`;
    return {
      url,
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.sha,
      ref: d.ref,
      task: 'deploy',
      payload: d.payload,
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: { login: 'github-actions[bot]', type: 'Bot' },
      created_at: d.created_at,
      updated_at: d.created_at,
      statuses_url: `${url}/statuses`,
      repository_url: `${this.url}/repos/${this.owner}/${this.repo}`,
      transient_environment: d.transient_environment,
      production_environment: d.production_environment,
    };
  }

  private statusJson(d: FakeDeployment, s: FakeStatus) {
    const deploymentUrl = `${this.url}/repos/${this.owner}/${this.repo}/deployments/${d.id}`;
    return {
      url: `${deploymentUrl}/statuses/${s.id}`,
      id: s.id,
      node_id: `DES_${s.id}`,
      state: s.state,
      creator: { login: 'github-actions[bot]', type: 'Bot' },
      description: s.description,
      environment: d.environment,
      target_url: s.log_url,
      created_at: s.created_at,
      updated_at: s.created_at,
      deployment_url: deploymentUrl,
      repository_url: `${this.url}/repos/${this.owner}/${this.repo}`,
      environment_url: s.environment_url,
      log_url: s.log_url,
    };
  }

  private commentJson(c: FakeComment) {
    const base = `${this.url}/repos/${this.owner}/${this.repo}`;
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${base}/issues/comments/${c.id}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      body: c.body,
      user: c.user,
      created_at: c.created_at,
      updated_at: c.updated_at,
      issue_url: `${base}/issues/${c.issue}`,
      author_association: c.user.type === 'Bot' ? 'NONE' : 'MEMBER',
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      data += chunk;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function limited(res: ServerResponse, l: RateLimitAnswer): void {
  const status = l.status ?? 403;
  if (l.kind === 'primary') {
    const reset = Math.floor(Date.now() / 1000) + (l.resetInSeconds ?? 3600);
    send(
      res,
      status,
      {
        message: 'API rate limit exceeded for installation ID 1.',
        documentation_url:
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-rate-limit',
      },
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
    );
    return;
  }
  send(
    res,
    status,
    {
      message:
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0400:1A2B:3C4D5E:6F7081:6543210F.',
      documentation_url:
        'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
    },
    l.retryAfter === undefined ? {} : { 'retry-after': String(l.retryAfter) },
  );
}

function notFound(res: ServerResponse): void {
  send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
}

function invalid(res: ServerResponse, field: string, code: string): void {
  send(res, 422, {
    message: 'Validation Failed',
    errors: [{ resource: 'Request', field, code }],
    documentation_url: 'https://docs.github.com/rest',
  });
}

/** An event payload from test/fixtures/events (as GitHub sends it), changed by edit, in a file for --payload. */
export function eventFile(name: string, edit: (payload: EventPayload) => void = () => {}): string {
  const payload = JSON.parse(
    readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'),
  ) as EventPayload;
  edit(payload);
  const file = join(mkdtempSync(join(tmpdir(), 'event-')), `${name}.json`);
  writeFileSync(file, JSON.stringify(payload));
  return file;
}

export interface EventPayload {
  action?: string;
  number?: number;
  pull_request?: { number: number; state: string; head: { sha: string } };
  [key: string]: unknown;
}
