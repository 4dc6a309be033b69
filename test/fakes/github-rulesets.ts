// Repository rulesets for the GitHub stand-in (github-setup-routes.ts): list, create, get, update, delete,
// each as the operation of GitHub's REST description named above it.
import { type Answer, docs, invalid, notFound, ok, paged, upgradeRequired } from './github-answers.js';

export interface FakeRuleset {
  id: number;
  name: string;
  target: string;
  enforcement: string;
  conditions: unknown;
  rules: unknown[];
  bypass_actors: unknown[];
}

export class FakeRulesets {
  readonly list: FakeRuleset[] = [];

  constructor(
    private readonly owner: string,
    private readonly repo: string,
    private readonly nextId: () => number,
    /** true where GitHub refuses rulesets (a private repository on GitHub Free) */
    private readonly unavailable: () => boolean,
  ) {}

  /** The answer for `rest` (the path after /repos/{owner}/{repo}), or undefined when it is not a ruleset's. */
  answer(method: string, rest: string, url: URL, body: Record<string, unknown>) {
    const match = /^\/rulesets(?:\/(\d+))?$/.exec(rest);
    if (!match) return undefined;
    if (this.unavailable()) return upgradeRequired();
    const origin = url.origin;
    // repos/get-repo-rulesets: summaries, without conditions and rules
    if (match[1] === undefined && method === 'GET')
      return paged(
        url,
        this.list.map((r) => this.rulesetJson(r, origin, false)),
        30,
        100,
        (items) => items,
      );
    // repos/create-repo-ruleset: 201; 422 for a taken name or a missing field
    if (match[1] === undefined && method === 'POST') {
      const invalidRuleset = this.validateRuleset(body, undefined);
      if (invalidRuleset) return invalidRuleset;
      const ruleset: FakeRuleset = {
        id: this.nextId(),
        name: String(body.name),
        target: typeof body.target === 'string' ? body.target : 'branch',
        enforcement: String(body.enforcement),
        conditions: body.conditions ?? null,
        rules: (body.rules ?? []) as unknown[],
        bypass_actors: (body.bypass_actors ?? []) as unknown[],
      };
      this.list.push(ruleset);
      return { status: 201, body: this.rulesetJson(ruleset, origin, true) };
    }
    if (match[1] === undefined) return undefined;
    const ruleset = this.list.find((r) => r.id === Number(match[1]));
    if (!ruleset) return notFound();
    // repos/get-repo-ruleset
    if (method === 'GET') return ok(this.rulesetJson(ruleset, origin, true));
    // repos/update-repo-ruleset: 200
    if (method === 'PUT') {
      const invalidRuleset = this.validateRuleset({ ...ruleset, ...body }, ruleset.id);
      if (invalidRuleset) return invalidRuleset;
      Object.assign(ruleset, {
        ...(body.name !== undefined ? { name: String(body.name) } : {}),
        ...(body.enforcement !== undefined ? { enforcement: String(body.enforcement) } : {}),
        ...(body.conditions !== undefined ? { conditions: body.conditions } : {}),
        ...(body.rules !== undefined ? { rules: body.rules } : {}),
      });
      return ok(this.rulesetJson(ruleset, origin, true));
    }
    // repos/delete-repo-ruleset: 204
    if (method === 'DELETE') {
      this.list.splice(this.list.indexOf(ruleset), 1);
      return { status: 204 };
    }
    return undefined;
  }

  private validateRuleset(body: Record<string, unknown>, id: number | undefined): Answer | undefined {
    if (typeof body.name !== 'string' || !body.name) return invalid('name', 'missing_field');
    if (!['active', 'disabled', 'evaluate'].includes(String(body.enforcement)))
      return invalid('enforcement', 'invalid');
    if (this.list.some((r) => r.name === body.name && r.id !== id))
      return {
        status: 422,
        body: { message: 'Validation Failed', errors: ['Name must be unique'], documentation_url: docs },
      };
    return undefined;
  }

  private rulesetJson(r: FakeRuleset, origin: string, full: boolean) {
    const summary = {
      id: r.id,
      name: r.name,
      target: r.target,
      source_type: 'Repository',
      source: `${this.owner}/${this.repo}`,
      enforcement: r.enforcement,
      node_id: `RRS_${r.id}`,
      _links: { self: { href: `${origin}/repos/${this.owner}/${this.repo}/rulesets/${r.id}` } },
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
    if (!full) return summary;
    return {
      ...summary,
      bypass_actors: r.bypass_actors,
      current_user_can_bypass: 'never',
      conditions: r.conditions,
      rules: r.rules,
    };
  }
}
