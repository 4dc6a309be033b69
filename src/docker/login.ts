import { maskSecret } from '../util/secrets.js';
import type { Docker } from './docker.js';

/** docker login with the secret on stdin; the secret is masked before docker can echo it. */
export async function login(
  docker: Docker,
  registry: string,
  username: string,
  secret: string,
): Promise<void> {
  maskSecret(secret);
  const result = await docker.run(['login', registry, '--username', username, '--password-stdin'], {
    input: secret,
  });
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n').pop() ?? '';
    throw new Error(
      `docker login to ${registry} as ${username} failed: ${reason}. Check the registry credentials: inputs registry-username/registry-password; for ACR signed in with the Azure identity, the refresh token was just issued, so check the registry's network rules (its firewall) and that the identity's tenant is the registry's (its push role is checked at the push)`,
    );
  }
}
