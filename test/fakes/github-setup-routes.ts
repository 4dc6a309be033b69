// The repository settings `archetype-deploy setup` reads and writes, for FakeGitHub (github-server.ts), in
// memory and seedable: each route follows the operation of GitHub's REST description
// (github/rest-api-description, api.github.com 2022-11-28) named above it, with its documented statuses;
// errors are {"message", "documentation_url"} as GitHub answers them. Writes need admin on the repository
// (GitHub: "Must have admin rights to Repository."). A private repository on GitHub Free has no environments
// and no rulesets: reading an environment answers 404 and rulesets 403 "Upgrade to GitHub Pro or make this
// repository public to enable this feature.", as GitHub answers there; creating an environment there answers
// the same 403 here (setup never tries: its plan states the limit instead).
// Seed a repository per test with `seed()` (caller without admin, private on a plan, custom OIDC template,
// immutable subjects, …), `addEnvironment()` and the users and teams of `directory` (github-directory.ts);
// `snapshot()` is its state without ids and times.

import {
  type Answer,
  docs,
  invalid,
  mustBeAdmin,
  notFound,
  ok,
  paged,
  upgradeRequired,
} from './github-answers.js';
import { FakeDirectory } from './github-directory.js';
import { FakeRulesets } from './github-rulesets.js';

export interface SetupSeed {
  defaultBranch?: string;
  private?: boolean;
  ownerType?: 'User' | 'Organization';
  /** the owner's plan (default free); orgs/get answers it to the organization's owners */
  plan?: 'free' | 'pro' | 'team' | 'enterprise';
  /** whether the caller owns the organization, so orgs/get shows `plan` (default: when admin) */
  orgOwner?: boolean;
  /** the caller's rights; default admin */
  permissions?: Partial<Permissions>;
  oidc?: { use_default: boolean; include_claim_keys?: string[] };
  /** the organization's template, which a repository with use_default false and no keys follows */
  orgOidcClaimKeys?: string[];
  /** the repository presents immutable subjects (repo:owner@id/repo@id:…) */
  immutableSubject?: boolean;
  canApprovePullRequestReviews?: boolean;
  defaultWorkflowPermissions?: 'read' | 'write';
  /** the organization does not let the repository change its workflow permissions (the PUT answers 409) */
  workflowPermissionsLocked?: boolean;
}

interface Permissions {
  admin: boolean;
  maintain: boolean;
  push: boolean;
  triage: boolean;
  pull: boolean;
}

export interface FakeEnvironment {
  id: number;
  name: string;
  waitTimer: number;
  preventSelfReview: boolean;
  reviewers: Array<{ type: 'User' | 'Team'; id: number }>;
  branchPolicy: { protected_branches: boolean; custom_branch_policies: boolean } | null;
  branchPolicies: Array<{ id: number; name: string; type: 'branch' | 'tag' }>;
  variables: Map<string, string>;
  created_at: string;
}

export class FakeRepositorySettings {
  defaultBranch = 'main';
  private = false;
  ownerType: 'User' | 'Organization' = 'Organization';
  plan: NonNullable<SetupSeed['plan']> = 'free';
  orgOwner = true;
  permissions: Permissions = { admin: true, maintain: true, push: true, triage: true, pull: true };
  oidc: { use_default: boolean; include_claim_keys?: string[] } = { use_default: true };
  orgOidcClaimKeys = ['repo', 'context'];
  immutableSubject = false;
  canApprovePullRequestReviews = false;
  defaultWorkflowPermissions: 'read' | 'write' = 'read';
  workflowPermissionsLocked = false;
  readonly environments = new Map<string, FakeEnvironment>();
  readonly variables = new Map<string, string>();
  readonly rulesets: FakeRulesets;
  /** users and teams, for required reviewers (users/get-by-username, teams/get-by-name) */
  readonly directory = new FakeDirectory();
  private nextId = 5000;

  constructor(
    readonly owner: string,
    readonly repo: string,
  ) {
    this.rulesets = new FakeRulesets(
      owner,
      repo,
      () => this.nextId++,
      () => this.freePrivate(),
    );
  }

  /** Starts over from an empty repository with these settings. */
  seed(seed: SetupSeed = {}): void {
    this.defaultBranch = seed.defaultBranch ?? 'main';
    this.private = seed.private ?? false;
    this.ownerType = seed.ownerType ?? 'Organization';
    this.plan = seed.plan ?? 'free';
    const admin = seed.permissions?.admin ?? true;
    this.orgOwner = seed.orgOwner ?? admin;
    this.permissions = { admin, maintain: admin, push: true, triage: true, pull: true, ...seed.permissions };
    this.oidc = seed.oidc ?? { use_default: true };
    this.orgOidcClaimKeys = seed.orgOidcClaimKeys ?? ['repo', 'context'];
    this.immutableSubject = seed.immutableSubject ?? false;
    this.canApprovePullRequestReviews = seed.canApprovePullRequestReviews ?? false;
    this.defaultWorkflowPermissions = seed.defaultWorkflowPermissions ?? 'read';
    this.workflowPermissionsLocked = seed.workflowPermissionsLocked ?? false;
    this.environments.clear();
    this.variables.clear();
    this.rulesets.list.length = 0;
    this.directory.clear();
  }

  /** An environment made by someone else (with protections, policies and variables). */
  addEnvironment(name: string, settings: Partial<Omit<FakeEnvironment, 'id' | 'name' | 'created_at'>> = {}) {
    const env: FakeEnvironment = {
      id: this.nextId++,
      name,
      waitTimer: 0,
      preventSelfReview: false,
      reviewers: [],
      branchPolicy: null,
      branchPolicies: [],
      variables: new Map(),
      created_at: new Date().toISOString(),
      ...settings,
    };
    this.environments.set(name, env);
    return env;
  }

  /** Everything setup may change, comparable with toEqual (no ids or times). */
  snapshot() {
    return {
      oidc: structuredClone(this.oidc),
      canApprovePullRequestReviews: this.canApprovePullRequestReviews,
      defaultWorkflowPermissions: this.defaultWorkflowPermissions,
      variables: Object.fromEntries([...this.variables].sort()),
      environments: [...this.environments.values()].map((e) => ({
        name: e.name,
        waitTimer: e.waitTimer,
        preventSelfReview: e.preventSelfReview,
        reviewers: e.reviewers,
        branchPolicy: e.branchPolicy,
        branchPolicies: e.branchPolicies.map((p) => `${p.type}:${p.name}`),
        variables: Object.fromEntries([...e.variables].sort()),
      })),
      rulesets: this.rulesets.list.map((r) => ({ name: r.name, enforcement: r.enforcement, rules: r.rules })),
    };
  }

  /** The answer to a request this file serves, or undefined for one it does not (FakeGitHub's own routes). */
  answer(
    method: string,
    requestUrl: URL,
    origin: string,
    body: Record<string, unknown> | undefined,
  ): Answer | undefined {
    const url = new URL(`${requestUrl.pathname}${requestUrl.search}`, origin);
    const path = url.pathname;
    const lookup = this.directory.answer(method, path, origin);
    if (lookup) return lookup;
    // orgs/get: `plan` only for the organization's owners
    if (method === 'GET' && path === `/orgs/${this.owner}`) {
      if (this.ownerType !== 'Organization') return notFound();
      const org = { login: this.owner, id: 1, type: 'Organization', url: `${origin}/orgs/${this.owner}` };
      return ok(this.orgOwner ? { ...org, plan: { name: this.plan } } : org);
    }
    // actions/get-oidc-custom-sub-template-for-org: for tokens with read:org (the stand-in: the org's owners)
    if (method === 'GET' && path === `/orgs/${this.owner}/actions/oidc/customization/sub`) {
      if (this.ownerType !== 'Organization') return notFound();
      if (!this.orgOwner)
        return {
          status: 403,
          body: { message: 'Resource not accessible by personal access token', documentation_url: docs },
        };
      return ok({ include_claim_keys: this.orgOidcClaimKeys });
    }
    const base = `/repos/${this.owner}/${this.repo}`;
    // repos/get
    if (method === 'GET' && path === base) return ok(this.repositoryJson(origin));
    if (!path.startsWith(`${base}/`)) return undefined;
    const rest = path.slice(base.length);
    // every write here is an admin's; refused before it changes anything
    const settings = /^\/(actions\/(oidc|permissions\/workflow|variables)|environments\/|rulesets)/.test(
      rest,
    );
    if (settings && method !== 'GET' && !this.permissions.admin) return mustBeAdmin();
    const routes = [
      this.oidcRoutes,
      this.workflowRoutes,
      this.variableRoutes,
      this.environmentRoutes,
      (method: string, rest: string, url: URL, body: Record<string, unknown>) =>
        this.rulesets.answer(method, rest, url, body),
    ];
    for (const route of routes) {
      const answer = route.call(this, method, rest, url, body ?? {});
      if (answer) return answer;
    }
    return undefined;
  }

  private repositoryJson(origin: string) {
    const fullName = `${this.owner}/${this.repo}`;
    return {
      id: 1296269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name: this.repo,
      full_name: fullName,
      owner: { login: this.owner, id: 1, type: this.ownerType },
      private: this.private,
      visibility: this.private ? 'private' : 'public',
      html_url: `https://github.com/${fullName}`,
      url: `${origin}/repos/${fullName}`,
      default_branch: this.defaultBranch,
      permissions: this.permissions,
    };
  }

  private oidcRoutes(method: string, rest: string, _url: URL, body: Record<string, unknown>) {
    if (rest !== '/actions/oidc/customization/sub') return undefined;
    // actions/get-custom-oidc-sub-claim-for-repo
    if (method === 'GET')
      return ok({
        ...this.oidc,
        use_immutable_subject: this.immutableSubject,
        sub_claim_prefix: this.immutableSubject
          ? `repo:${this.owner}@1/${this.repo}@1296269`
          : `repo:${this.owner}/${this.repo}`,
      });
    // actions/set-custom-oidc-sub-claim-for-repo: 201 with an empty object
    if (method !== 'PUT') return undefined;
    if (typeof body.use_default !== 'boolean') return invalid('use_default', 'missing_field');
    const keys = body.include_claim_keys;
    if (
      keys !== undefined &&
      (!Array.isArray(keys) ||
        !keys.every((k) => typeof k === 'string' && /^\w+$/.test(k)) ||
        new Set(keys).size !== keys.length)
    )
      return invalid('include_claim_keys', 'invalid');
    this.oidc = { use_default: body.use_default, ...(keys ? { include_claim_keys: keys as string[] } : {}) };
    if (typeof body.use_immutable_subject === 'boolean') this.immutableSubject = body.use_immutable_subject;
    return { status: 201, body: {} };
  }

  private workflowRoutes(method: string, rest: string, _url: URL, body: Record<string, unknown>) {
    if (rest !== '/actions/permissions/workflow') return undefined;
    // actions/get-github-actions-default-workflow-permissions-repository: admin only, even to read
    if (method === 'GET')
      return this.permissions.admin
        ? ok({
            default_workflow_permissions: this.defaultWorkflowPermissions,
            can_approve_pull_request_reviews: this.canApprovePullRequestReviews,
          })
        : mustBeAdmin();
    // actions/set-github-actions-default-workflow-permissions-repository: 204
    if (method !== 'PUT') return undefined;
    // 409, without a body, "when changing a setting is prevented by the owning organization"
    if (this.workflowPermissionsLocked) return { status: 409 };
    const perms = body.default_workflow_permissions;
    if (perms !== undefined && perms !== 'read' && perms !== 'write')
      return invalid('default_workflow_permissions', 'invalid');
    if (perms) this.defaultWorkflowPermissions = perms;
    if (typeof body.can_approve_pull_request_reviews === 'boolean')
      this.canApprovePullRequestReviews = body.can_approve_pull_request_reviews;
    return { status: 204 };
  }

  /** actions/{list,create,update,delete}-{repo,environment}-variable(s) */
  private variableRoutes(method: string, rest: string, url: URL, body: Record<string, unknown>) {
    const repoMatch = /^\/actions\/variables(?:\/([^/]+))?$/.exec(rest);
    const envMatch = /^\/environments\/([^/]+)\/variables(?:\/([^/]+))?$/.exec(rest);
    if (!repoMatch && !envMatch) return undefined;
    const envName = envMatch?.[1] === undefined ? undefined : decodeURIComponent(envMatch[1]);
    const namePart = repoMatch ? repoMatch[1] : envMatch?.[2];
    const env = envName === undefined ? undefined : this.environment(envName);
    if (envName !== undefined && !env) return notFound();
    const vars = env ? env.variables : this.variables;
    const name = namePart === undefined ? undefined : decodeURIComponent(namePart);
    const at = '2026-01-01T00:00:00Z';
    if (name === undefined && method === 'GET') {
      const all = [...vars].map(([n, value]) => ({ name: n, value, created_at: at, updated_at: at }));
      return paged(url, all, 10, 30, (items) => ({ total_count: all.length, variables: items }));
    }
    if (name === undefined && method === 'POST') {
      if (typeof body.name !== 'string' || !body.name) return invalid('name', 'missing_field');
      if (typeof body.value !== 'string') return invalid('value', 'missing_field');
      const upper = body.name.toUpperCase();
      if (vars.has(upper))
        return {
          status: 409,
          body: { message: 'Already exists - Variable already exists', documentation_url: docs },
        };
      vars.set(upper, body.value);
      return { status: 201, body: {} };
    }
    if (name === undefined) return undefined;
    const key = name.toUpperCase();
    if (!vars.has(key))
      return method === 'GET' || method === 'PATCH' || method === 'DELETE' ? notFound() : undefined;
    if (method === 'GET') return ok({ name: key, value: vars.get(key), created_at: at, updated_at: at });
    if (method === 'PATCH') {
      if (body.value !== undefined && typeof body.value !== 'string') return invalid('value', 'invalid');
      if (typeof body.value === 'string') vars.set(key, body.value);
      return { status: 204 };
    }
    if (method === 'DELETE') {
      vars.delete(key);
      return { status: 204 };
    }
    return undefined;
  }

  /** The environment, or undefined when absent or (a private repository on GitHub Free) unavailable. */
  private environment(name: string): FakeEnvironment | undefined {
    if (this.freePrivate()) return undefined;
    return [...this.environments.values()].find((e) => e.name.toLowerCase() === name.toLowerCase());
  }

  private freePrivate(): boolean {
    return this.private && this.plan === 'free';
  }

  private environmentRoutes(method: string, rest: string, url: URL, body: Record<string, unknown>) {
    const match = /^\/environments\/([^/]+)(\/deployment-branch-policies(?:\/(\d+))?)?$/.exec(rest);
    if (!match?.[1]) return undefined;
    const name = decodeURIComponent(match[1]);
    const env = this.environment(name);
    if (match[2]) return this.branchPolicyRoutes(method, env, match[3], url, body);
    // repos/get-environment
    if (method === 'GET') return env ? ok(this.environmentJson(env, url.origin)) : notFound();
    // repos/delete-an-environment: 204
    if (method === 'DELETE') {
      if (env) this.environments.delete(env.name);
      return env ? { status: 204 } : notFound();
    }
    if (method !== 'PUT') return undefined;
    // repos/create-or-update-environment: 200 with the environment; 422 for an invalid branch policy
    if (this.freePrivate()) return upgradeRequired();
    const policy = body.deployment_branch_policy as FakeEnvironment['branchPolicy'] | undefined;
    if (policy && policy.protected_branches === policy.custom_branch_policies)
      return {
        status: 422,
        body: {
          message:
            'Invalid deployment_branch_policy: protected_branches and custom_branch_policies cannot have the same value',
          documentation_url: docs,
        },
      };
    const reviewers = (body.reviewers ?? []) as FakeEnvironment['reviewers'];
    if (
      !Array.isArray(reviewers) ||
      reviewers.length > 6 ||
      !reviewers.every((r) => (r.type === 'User' || r.type === 'Team') && typeof r.id === 'number')
    )
      return invalid('reviewers', 'invalid');
    const target = env ?? this.addEnvironment(name);
    if (typeof body.wait_timer === 'number') target.waitTimer = body.wait_timer;
    if ('reviewers' in body) target.reviewers = reviewers.map((r) => ({ type: r.type, id: r.id }));
    if (typeof body.prevent_self_review === 'boolean') target.preventSelfReview = body.prevent_self_review;
    // prevent_self_review belongs to the required_reviewers rule: without reviewers there is none
    if (target.reviewers.length === 0) target.preventSelfReview = false;
    if ('deployment_branch_policy' in body) {
      target.branchPolicy = policy ?? null;
      if (!policy?.custom_branch_policies) target.branchPolicies = [];
    }
    return ok(this.environmentJson(target, url.origin));
  }

  private branchPolicyRoutes(
    method: string,
    env: FakeEnvironment | undefined,
    id: string | undefined,
    url: URL,
    body: Record<string, unknown>,
  ) {
    if (!env) return notFound();
    // repos/list-deployment-branch-policies
    if (method === 'GET' && id === undefined) {
      const all = env.branchPolicies.map((p) => this.policyJson(p));
      return paged(url, all, 30, 100, (items) => ({ total_count: all.length, branch_policies: items }));
    }
    // repos/create-deployment-branch-policy: 404 unless custom_branch_policies; 303 for a pattern it has
    if (method === 'POST' && id === undefined) {
      if (!env.branchPolicy?.custom_branch_policies) return notFound();
      if (typeof body.name !== 'string' || !body.name) return invalid('name', 'missing_field');
      const type = body.type === 'tag' ? 'tag' : 'branch';
      if (env.branchPolicies.some((p) => p.name === body.name && p.type === type)) return { status: 303 };
      const policy = { id: this.nextId++, name: body.name, type } as const;
      env.branchPolicies.push(policy);
      return ok(this.policyJson(policy));
    }
    // repos/delete-deployment-branch-policy: 204
    if (method === 'DELETE' && id !== undefined) {
      const index = env.branchPolicies.findIndex((p) => p.id === Number(id));
      if (index < 0) return notFound();
      env.branchPolicies.splice(index, 1);
      return { status: 204 };
    }
    return undefined;
  }

  private environmentJson(e: FakeEnvironment, origin: string) {
    const rules: unknown[] = [];
    if (e.waitTimer > 0)
      rules.push({ id: e.id + 1, node_id: `GA_${e.id + 1}`, type: 'wait_timer', wait_timer: e.waitTimer });
    if (e.reviewers.length > 0)
      rules.push({
        id: e.id + 2,
        node_id: `GA_${e.id + 2}`,
        prevent_self_review: e.preventSelfReview,
        type: 'required_reviewers',
        // reviewers[].reviewer: simple-user or team
        reviewers: e.reviewers.map((r) => ({
          type: r.type,
          reviewer:
            r.type === 'User'
              ? this.directory.userJson(r.id, origin)
              : this.directory.teamJson(r.id, this.owner, origin),
        })),
      });
    if (e.branchPolicy) rules.push({ id: e.id + 3, node_id: `GA_${e.id + 3}`, type: 'branch_policy' });
    return {
      id: e.id,
      node_id: `EN_${e.id}`,
      name: e.name,
      url: `${origin}/repos/${this.owner}/${this.repo}/environments/${e.name}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/deployments/activity_log?environments_filter=${e.name}`,
      created_at: e.created_at,
      updated_at: e.created_at,
      protection_rules: rules,
      deployment_branch_policy: e.branchPolicy,
    };
  }

  private policyJson(p: { id: number; name: string; type: string }) {
    return { id: p.id, node_id: `DBP_${p.id}`, name: p.name, type: p.type };
  }
}
