import { FakeGitHub } from '../fakes/github-server.js';
import { setEnv } from '../fakes/runner-env.js';

// The GitHub stand-in the setup tests share: started for the file, with GITHUB_API_URL pointing at it before
// @actions/github is loaded (it reads its proxy settings for that address when loaded), and src/setup's
// modules loaded after that; each test starts from no recorded request (and, with `seed`, fresh settings).

export interface SetupModules {
  connect: typeof import('../../src/setup/github/connect.js');
  read: typeof import('../../src/setup/github/read-state.js');
  plan: typeof import('../../src/setup/github/plan.js');
  apply: typeof import('../../src/setup/github/apply.js');
  teardown: typeof import('../../src/setup/github/teardown.js');
  render: typeof import('../../src/setup/github/render.js');
  reviewers: typeof import('../../src/setup/github/reviewers.js');
  variables: typeof import('../../src/setup/plan.js');
  federation: typeof import('../../src/setup/federation-plan.js');
}

export function setupGitHubStandIn(token: string, options: { seed: boolean }) {
  const github = new FakeGitHub('team', 'archetype', token);
  // filled in beforeAll, before any test reads it
  const m = {} as SetupModules;
  let restore: () => void = () => {};
  beforeAll(async () => {
    await github.start();
    restore = setEnv({ GITHUB_API_URL: github.url });
    Object.assign(m, {
      connect: await import('../../src/setup/github/connect.js'),
      read: await import('../../src/setup/github/read-state.js'),
      plan: await import('../../src/setup/github/plan.js'),
      apply: await import('../../src/setup/github/apply.js'),
      teardown: await import('../../src/setup/github/teardown.js'),
      render: await import('../../src/setup/github/render.js'),
      reviewers: await import('../../src/setup/github/reviewers.js'),
      variables: await import('../../src/setup/plan.js'),
      federation: await import('../../src/setup/federation-plan.js'),
    });
  });
  afterAll(async () => {
    restore();
    await github.stop();
  });
  beforeEach(() => {
    if (options.seed) github.settings.seed();
    github.requests.length = 0;
  });
  const connect = (pacing = { writeIntervalMs: 5, notifyIntervalMs: 5 }) =>
    m.connect.connectSetupGitHub(
      token,
      { owner: 'team', repo: 'archetype' },
      { baseUrl: github.url, pacing },
    );
  return { github, m, connect };
}
