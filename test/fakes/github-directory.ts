// The users and teams of the GitHub stand-in, for `archetype-deploy setup --reviewer`: seeded per test with
// addUser() and addTeam(), answered as GitHub's REST description (github/rest-api-description,
// api.github.com 2022-11-28) shows them, 404 {"message": "Not Found", "documentation_url"} for one it lacks.
// Environments name their reviewers with userJson() and teamJson() (protection_rules[].reviewers[].reviewer:
// simple-user or team).
import { type Answer, notFound, ok } from './github-answers.js';

export interface FakeUser {
  login: string;
  id: number;
  /** GET /users/{username} answers organizations too */
  type: 'User' | 'Organization';
}

export interface FakeTeam {
  org: string;
  slug: string;
  name: string;
  id: number;
}

export class FakeDirectory {
  readonly users: FakeUser[] = [];
  readonly teams: FakeTeam[] = [];

  addUser(login: string, id: number, type: FakeUser['type'] = 'User'): FakeUser {
    const user = { login, id, type };
    this.users.push(user);
    return user;
  }

  addTeam(org: string, slug: string, id: number, name = slug): FakeTeam {
    const team = { org, slug, name, id };
    this.teams.push(team);
    return team;
  }

  clear(): void {
    this.users.length = 0;
    this.teams.length = 0;
  }

  /** The answer to a users or teams lookup, or undefined for another request. */
  answer(method: string, path: string, origin: string): Answer | undefined {
    if (method !== 'GET') return undefined;
    // users/get-by-username: a user (public-user), or an organization by its login; logins ignore case
    const user = /^\/users\/([^/]+)$/.exec(path);
    if (user?.[1]) {
      const login = decodeURIComponent(user[1]).toLowerCase();
      const found = this.users.find((u) => u.login.toLowerCase() === login);
      return found ? ok(this.publicUserJson(found, origin)) : notFound();
    }
    // teams/get-by-name: team-full; a team the caller cannot see is a 404 as well
    const team = /^\/orgs\/([^/]+)\/teams\/([^/]+)$/.exec(path);
    if (team?.[1] && team[2]) {
      const org = decodeURIComponent(team[1]).toLowerCase();
      const slug = decodeURIComponent(team[2]).toLowerCase();
      const found = this.teams.find((t) => t.org.toLowerCase() === org && t.slug === slug);
      return found ? ok(this.teamFullJson(found, origin)) : notFound();
    }
    return undefined;
  }

  /** simple-user, as environments list a user reviewer; an unknown id gets a made-up login */
  userJson(id: number, origin: string) {
    const user = this.users.find((u) => u.id === id) ?? { login: `user-${id}`, id, type: 'User' as const };
    return this.simpleUserJson(user, origin);
  }

  private simpleUserJson(user: FakeUser, origin: string) {
    const url = `${origin}/users/${user.login}`;
    return {
      login: user.login,
      id: user.id,
      node_id: `U_${user.id}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      gravatar_id: '',
      url,
      html_url: `https://github.com/${user.login}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: user.type,
      site_admin: false,
    };
  }

  /** team, as environments list a team reviewer; an unknown id gets a made-up slug in organization `org` */
  teamJson(id: number, org: string, origin: string) {
    const team = this.teams.find((t) => t.id === id) ?? { org, slug: `team-${id}`, name: `team-${id}`, id };
    const url = `${origin}/organizations/1/team/${team.id}`;
    return {
      id: team.id,
      node_id: `T_${team.id}`,
      url,
      html_url: `https://github.com/orgs/${team.org}/teams/${team.slug}`,
      name: team.name,
      slug: team.slug,
      description: null,
      privacy: 'closed',
      notification_setting: 'notifications_enabled',
      permission: 'pull',
      members_url: `${url}/members{/member}`,
      repositories_url: `${url}/repos`,
      parent: null,
    };
  }

  private publicUserJson(user: FakeUser, origin: string) {
    return {
      ...this.simpleUserJson(user, origin),
      user_view_type: 'public',
      name: null,
      company: null,
      blog: '',
      location: null,
      email: null,
      hireable: null,
      bio: null,
      public_repos: 1,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
  }

  private teamFullJson(team: FakeTeam, origin: string) {
    return {
      ...this.teamJson(team.id, team.org, origin),
      members_count: 2,
      repos_count: 1,
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      organization: { login: team.org, id: 1, type: 'Organization', url: `${origin}/orgs/${team.org}` },
    };
  }
}
