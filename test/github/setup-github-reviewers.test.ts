import { setupGitHubStandIn } from '../helpers/setup-github.js';

// `--reviewer` resolved through real octokit against the GitHub stand-in (users/get-by-username,
// teams/get-by-name, with GitHub's 404 for one that is not there), then applied and read back through
// repos/create-or-update-environment and repos/get-environment's protection_rules.

const token = 'ghu_setupreviewerstoken';
const { github, m, connect } = setupGitHubStandIn(token, { seed: true });

async function resolve(values: string[]) {
  const gh = await connect();
  const state = await m.read.readGitHubState(gh, 'production');
  const names = values.map(m.reviewers.parseReviewer);
  return { gh, state, resolved: await m.reviewers.resolveReviewers(gh, state, names, 'production') };
}

const lookups = () => github.requests.filter((r) => /^\/(users|orgs\/[^/]+\/teams)\//.test(r.path));

describe('--reviewer against GitHub', () => {
  it('resolves a user and a team to their ids, applies them, and reads them back by name', async () => {
    github.settings.directory.addUser('alice', 101);
    github.settings.directory.addTeam('team', 'deployers', 202, 'Deployers');
    const { gh, state, resolved } = await resolve(['Alice', 'team/deployers']);
    expect(resolved).toEqual({
      reviewers: [
        { type: 'User', id: 101, name: 'alice' },
        { type: 'Team', id: 202, name: 'team/deployers' },
      ],
      refusals: [],
    });
    expect(lookups().map((r) => r.path)).toEqual(['/users/Alice', '/orgs/team/teams/deployers']);
    const wanted = {
      environment: 'production',
      reviewers: resolved.reviewers,
      variables: [],
      requiredChecks: [],
    };
    await m.apply.applyGitHubPlan(gh, state, m.plan.planGitHub(state, wanted));
    const again = await m.read.readGitHubState(gh, 'production');
    expect(again.environment).toMatchObject({ reviewers: resolved.reviewers, preventSelfReview: true });
    expect(m.plan.planGitHub(again, wanted).changes).toEqual([]);
  });

  it('refuses, naming the value and the fix, a user or team that is not there and an organization as a user', async () => {
    github.settings.directory.addUser('team', 1, 'Organization');
    const { resolved } = await resolve(['nobody', 'team/nope', 'team']);
    expect(resolved.reviewers).toEqual([]);
    expect(resolved.refusals).toEqual([
      "--reviewer 'nobody': there is no GitHub user nobody; check the login (github.com/nobody)",
      expect.stringMatching(
        /^--reviewer 'team\/nope': there is no team nope in organization team that this token can see; check the team's slug .*read:org/,
      ),
      "--reviewer 'team': team is an organization, not a user; give one of its teams as team/<team-slug>",
    ]);
  });

  it("refuses a team of another organization, and any team on a user's repository, without asking GitHub", async () => {
    github.settings.directory.addTeam('team-org', 'deployers', 303);
    expect((await resolve(['team-org/deployers'])).resolved.refusals).toEqual([
      expect.stringMatching(
        /^--reviewer 'team-org\/deployers': a team of team-org cannot have access to team\/archetype, which belongs to team.*give a team of team \(team\/<team-slug>\) or a user$/,
      ),
    ]);
    github.settings.seed({ ownerType: 'User' });
    expect((await resolve(['team/deployers'])).resolved.refusals).toEqual([
      "--reviewer 'team/deployers': team/archetype belongs to the user team, and only an organization's repositories have teams; give users (--reviewer <login>)",
    ]);
    expect(lookups()).toEqual([]);
  });

  it('looks nobody up where the plan sets no reviewers (private on GitHub Team)', async () => {
    github.settings.seed({ private: true, plan: 'team' });
    const { resolved } = await resolve(['nobody']);
    expect(resolved).toEqual({ reviewers: [], refusals: [] });
    expect(lookups()).toEqual([]);
  });
});
