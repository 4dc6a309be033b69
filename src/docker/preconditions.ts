import { errorText } from '../util/errors.js';
import { type Docker, explainingLine, toolJson } from './docker.js';

// What the build needs from the runner, checked before a build is attempted (and before docker signs in),
// each with its fix: the docker CLI, a daemon that answers, and the buildx plugin.

export interface DockerVersions {
  client: string;
  server: string;
  buildx: string;
}

export async function checkDocker(docker: Docker): Promise<DockerVersions> {
  // both asked at once (each is a process start); judged in order: the CLI, the daemon, then buildx
  const [asked, buildxAsked] = await Promise.allSettled([
    docker.run(['version', '--format', '{{json .}}']),
    docker.run(['buildx', 'version']),
  ]);
  if (asked.status === 'rejected')
    throw new Error(
      `docker is not installed on this runner, or not on PATH (${errorText(asked.reason).split('\n')[0]}): use a runner with Docker Engine (GitHub's ubuntu runners have it) or install it`,
    );
  const version = asked.value;
  if (version.exitCode !== 0)
    throw new Error(
      `the docker daemon does not answer (${explainingLine(version.stderr || version.stdout)}): start it, or point DOCKER_HOST or the docker context at one that runs`,
    );
  const v = toolJson<{ Client?: { Version?: string }; Server?: { Version?: string } }>(
    version.stdout,
    'docker version',
  );
  if (buildxAsked.status === 'rejected') throw buildxAsked.reason;
  const buildx = buildxAsked.value;
  if (buildx.exitCode !== 0)
    throw new Error(
      `docker buildx is not installed (${explainingLine(buildx.stderr || buildx.stdout)}): add the step 'uses: docker/setup-buildx-action' before this action, or install the docker-buildx plugin`,
    );
  return {
    client: v.Client?.Version ?? '?',
    server: v.Server?.Version ?? '?',
    buildx: buildx.stdout.trim().split(/\s+/)[1] ?? buildx.stdout.trim(),
  };
}
