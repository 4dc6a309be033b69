import { describe, expect, it } from '@jest/globals';
import { buildFailure } from '../../src/docker/buildx.js';
import type { Docker } from '../../src/docker/docker.js';
import {
  buildAndPushRetrying,
  isPushFailure,
  isPushRefused,
  pushRefusal,
} from '../../src/docker/push-retry.js';
import type { BuildSpec } from '../../src/plan.js';
import { acrRefreshTokenUser } from '../../src/util/acr-roles.js';

// A push the registry refuses for rights is final: ACR lets an identity without push rights through its token
// exchange and docker login (Azure/acr docs/AAD-OAuth.md) and refuses the push, as distribution's token auth
// does (docs/spec/auth/token.md: the token holds only the access granted; the push then gets 401
// insufficient_scope). The texts below are docker's and buildx's own: the first ones printed by docker 28.2 /
// engine 20.10 / buildx 0.38 (docker driver) pushing to the local bearer registry (scripts/local-stack) as a
// user the token server grants pull only, anonymously, to a closed port, and building from a base image it
// may not pull; the others as quoted in the issues named beside them.

const localPullOnly = `#0 building with "default" instance using docker driver

#4 [1/1] COPY hello /hello
#4 DONE 0.0s

#5 exporting to image
#5 exporting layers done
#5 naming to 127.0.0.1:5021/push-refused/app:t1 done
#5 DONE 0.0s

#6 pushing 127.0.0.1:5021/push-refused/app:t1 with docker
#6 pushing layer 076b7d036fab done
#6 ERROR: denied: requested access to the resource is denied
------
 > pushing 127.0.0.1:5021/push-refused/app:t1 with docker:
------
ERROR: failed to build: denied: requested access to the resource is denied
`;
const localAnonymous = `#6 pushing 127.0.0.1:5021/push-refused/app:t2 with docker
------
 > pushing 127.0.0.1:5021/push-refused/app:t2 with docker:
------
ERROR: failed to build: unauthorized: credentials required
`;
const localClosedPort = `#6 pushing 127.0.0.1:5029/push-refused/app:t1 with docker
#6 ERROR: Get "http://127.0.0.1:5029/v2/": dial tcp 127.0.0.1:5029: connect: connection refused
------
 > pushing 127.0.0.1:5029/push-refused/app:t1 with docker:
------
ERROR: failed to build: Get "http://127.0.0.1:5029/v2/": dial tcp 127.0.0.1:5029: connect: connection refused
`;
const localBaseImageRefused = `#3 [internal] load metadata for 127.0.0.1:5021/nothing/here:1
#3 ERROR: failed to authorize: rpc error: code = Unknown desc = failed to fetch anonymous token: unexpected status from GET request to http://127.0.0.1:5022/oauth2/token?scope=repository%3Anothing%2Fhere%3Apull&service=127.0.0.1%3A5021: 401 Unauthorized
------
 > [internal] load metadata for 127.0.0.1:5021/nothing/here:1:
------
ERROR: failed to build: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: failed to create LLB definition: failed to authorize: rpc error: code = Unknown desc = failed to fetch anonymous token: unexpected status from GET request to http://127.0.0.1:5022/oauth2/token?scope=repository%3Anothing%2Fhere%3Apull&service=127.0.0.1%3A5021: 401 Unauthorized
`;

const refusals: [string, string][] = [
  ['the local registry, a pull-only user (docker driver)', localPullOnly],
  ['the local registry, no credentials', localAnonymous],
  // docker/build-push-action#588 (buildkit in a container, Docker Hub)
  [
    'buildkit: insufficient_scope',
    'ERROR: failed to solve: server message: insufficient_scope: authorization failed',
  ],
  // ACR's words, from microsoft/azure-pipelines-tasks#13490 (docker push without push rights), as buildx's
  // docker driver ends with them (the first local text's last line)
  [
    'ACR: authentication required',
    'ERROR: failed to build: unauthorized: authentication required, visit https://aka.ms/acr/authorization for more information.',
  ],
  // docker/buildx#780
  ['buildkit: unexpected status 401', 'error: failed to solve: unexpected status: 401 Unauthorized'],
  [
    'buildkit: 403 on a blob upload',
    'ERROR: failed to solve: failed to push 127.0.0.1:5001/app:1: unexpected status from POST request to http://127.0.0.1:5001/v2/app/blobs/uploads/: 403 Forbidden',
  ],
];

const outages: [string, string][] = [
  ['the local registry, a closed port', localClosedPort],
  [
    'a 502 from a load balancer',
    'ERROR: failed to solve: failed to push r.example/app:1: unexpected status from PUT request to https://r.example/v2/app/manifests/1: 502 Bad Gateway',
  ],
  [
    'a reset connection',
    'ERROR: failed to build: Put "https://r.example/v2/app/blobs/uploads/x": read tcp 10.0.0.2:5555->10.0.0.9:443: read: connection reset by peer',
  ],
];

/** The message the action sees: buildx's output through buildFailure, as buildAndPush throws it. */
const seen = (output: string) => buildFailure(output);

describe('isPushRefused', () => {
  it.each(refusals)('%s: refused for rights, not an outage to wait out', (_name, output) => {
    expect(isPushRefused(seen(output))).toBe(true);
  });

  it.each(outages)('%s: an outage, tried again', (_name, output) => {
    expect(isPushRefused(seen(output))).toBe(false);
    expect(isPushFailure(seen(output))).toBe(true);
  });

  it("a base image the build may not pull is the Dockerfile's step, neither refused nor retried", () => {
    const message = seen(localBaseImageRefused);
    expect(message).toContain('at step [internal] load metadata for 127.0.0.1:5021/nothing/here:1');
    expect(isPushRefused(message)).toBe(false);
    expect(isPushFailure(message)).toBe(false);
  });
});

describe('pushRefusal', () => {
  const message = seen(localPullOnly);

  it('for ACR signed in with the Entra identity: both role modes, and the fix for that identity', () => {
    const client = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';
    const named = pushRefusal(message, 'team.azurecr.io/shop/web:abc123', acrRefreshTokenUser, client);
    expect(named).toContain(
      `team.azurecr.io refused the push of shop/web: the Azure identity the action signs in with (client id ${client}, input 'azure-client-id') may not push there`,
    );
    expect(named).toContain(`az role assignment create --assignee ${client} --role AcrPush`);
    // no client id in the inputs (a credential from the environment): a placeholder, said so
    const text = pushRefusal(message, 'team.azurecr.io/shop/web:abc123', acrRefreshTokenUser);
    expect(text).toContain(
      'team.azurecr.io refused the push of shop/web: the Azure identity the action signs in with (its credential from the environment) may not push there',
    );
    expect(text).toContain(
      "assign AcrPush on the registry (a registry in 'RBAC Registry + ABAC Repository Permissions' mode ignores AcrPush: assign 'Container Registry Repository Writer' instead",
    );
    expect(text).toContain(
      `az role assignment create --assignee <the identity's client id> --role "Container Registry Repository Writer" --scope $(az acr show --name team --query id --output tsv)`,
    );
    expect(text).toContain('--role AcrPush --scope $(az acr show --name team --query id --output tsv)');
    expect(text).toContain(
      'docker said: ERROR: failed to build: denied: requested access to the resource is denied',
    );
  });

  it('for a user name and password: the user lacks push rights for the repository', () => {
    const text = pushRefusal(message, '127.0.0.1:5001/e2e-push/app:abc123', 'archetype-pull');
    expect(text).toBe(
      "127.0.0.1:5001 refused the push of e2e-push/app: the user 'archetype-pull' (input 'registry-username') has no push rights for that repository. Give it push rights for e2e-push/app, or set registry-username and registry-password to a user that has them. Then deploy again; nothing was applied. docker said: ERROR: failed to build: denied: requested access to the resource is denied",
    );
    expect(pushRefusal(message, 'team.azurecr.io/shop:1', 'ci-token')).toContain(
      'Give it push rights for shop (for an ACR token: a scope map with content/write on the repository)',
    );
  });

  it('without a sign-in: names the inputs to set', () => {
    expect(pushRefusal(seen(localAnonymous), '127.0.0.1:5001/app:1', undefined)).toContain(
      '127.0.0.1:5001 refused the push of app: docker pushed without credentials. Set the inputs registry-username and registry-password',
    );
  });

  it("ACR's firewall: names the network rules, not a role", () => {
    const firewall =
      "ERROR: failed to build: denied: client with IP '20.1.2.3' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.";
    expect(isPushRefused(firewall)).toBe(true);
    const text = pushRefusal(firewall, 'team.azurecr.io/shop:1', acrRefreshTokenUser);
    expect(text).toContain("the registry's network rules do not let this runner's address in");
    expect(text).not.toContain('AcrPush');
  });
});

describe('buildAndPushRetrying', () => {
  const spec: BuildSpec = {
    context: '.',
    dockerfile: 'Dockerfile',
    platforms: ['linux/amd64'],
    tags: ['127.0.0.1:5001/e2e-push/app:abc123'],
    buildArgs: {},
    secretFiles: {},
    labels: {},
    cacheFrom: [],
    cacheTo: [],
  };
  /** A docker whose buildx prints `output` and fails; counts the builds. */
  const failingDocker = (output: string) => {
    const runs: string[][] = [];
    const docker = {
      run: async (args: string[]) => {
        runs.push(args);
        return { exitCode: 1, stdout: output, stderr: '' };
      },
      signedInAs: () => 'archetype-pull',
    } as unknown as Docker;
    return { docker, runs };
  };

  it('a refused push is final at once: one attempt, the refusal', async () => {
    const { docker, runs } = failingDocker(localPullOnly);
    await expect(buildAndPushRetrying(docker, spec, { attempts: 3, delayMs: 1 })).rejects.toThrow(
      "127.0.0.1:5001 refused the push of e2e-push/app: the user 'archetype-pull'",
    );
    expect(runs).toHaveLength(1);
  });

  it('an outage is tried again up to the bound, and blamed on the registry being down', async () => {
    const { docker, runs } = failingDocker(localClosedPort);
    await expect(buildAndPushRetrying(docker, spec, { attempts: 3, delayMs: 1 })).rejects.toThrow(
      'the push to 127.0.0.1:5001 failed after 3 attempts, so nothing was applied; check that the registry is up',
    );
    expect(runs).toHaveLength(3);
  });
});
