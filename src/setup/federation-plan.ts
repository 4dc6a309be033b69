// The federated identity credentials each identity needs, and what to create: pure, so a plan can be
// printed before anything changes. An existing credential with the same issuer and subject (under any
// name) is reused; a second run plans nothing.
import { type JobContext, oidcSubject, type SubjectTemplate } from './subjects.js';

export const githubIssuer = 'https://token.actions.githubusercontent.com';

export type IdentityRole = 'production' | 'preview';

export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface WantedCredential extends FederatedCredential {
  identity: IdentityRole;
}

export interface FederationInput {
  repository: string;
  defaultBranch: string;
  template: SubjectTemplate;
  audience: string;
  claims?: Record<string, string>;
}

/** Every credential the two identities need: production → environment production; preview → pull requests and the default branch. */
export function wantedCredentials(input: FederationInput): WantedCredential[] {
  const jobs: Array<{ identity: IdentityRole; name: string; context: JobContext }> = [
    {
      identity: 'production',
      name: 'github-environment-production',
      context: { kind: 'environment', name: 'production' },
    },
    { identity: 'preview', name: 'github-pull-request', context: { kind: 'pull_request' } },
    {
      identity: 'preview',
      name: 'github-default-branch',
      context: { kind: 'ref', ref: `refs/heads/${input.defaultBranch}` },
    },
  ];
  return jobs.map((job) => ({
    identity: job.identity,
    name: job.name,
    issuer: githubIssuer,
    subject: oidcSubject(input.template, input.repository, job.context, input.claims),
    audiences: [input.audience],
  }));
}

export interface CredentialChange {
  identity: IdentityRole;
  credential: FederatedCredential;
}

/**
 * The credentials to create: those wanted whose issuer and subject no existing credential of that identity
 * has. An existing one with the same subject but another audience is an error, since Azure refuses two
 * credentials with one issuer and subject, and changing it could break whoever set it.
 */
export function planCredentials(
  wanted: WantedCredential[],
  existing: Record<IdentityRole, FederatedCredential[]>,
): CredentialChange[] {
  const changes: CredentialChange[] = [];
  for (const want of wanted) {
    const same = existing[want.identity].find((c) => c.issuer === want.issuer && c.subject === want.subject);
    if (same) {
      if (!want.audiences.every((a) => same.audiences.includes(a)))
        throw new Error(
          `the ${want.identity} identity's federated credential '${same.name}' trusts subject '${want.subject}' ` +
            `with audiences ${same.audiences.join(', ')}, not ${want.audiences.join(', ')}; add ${want.audiences.join(', ')} to its audiences or delete it`,
        );
      continue;
    }
    const { identity, ...credential } = want;
    changes.push({
      identity,
      credential: { ...credential, name: freeName(credential.name, existing[identity]) },
    });
  }
  return changes;
}

/** `name`, or `name-2`, `name-3`, ... when a credential with another subject holds it (a PUT would replace it). */
function freeName(name: string, existing: FederatedCredential[]): string {
  const taken = new Set(existing.map((c) => c.name));
  for (let n = 1; n <= existing.length + 1; n++) {
    const candidate = n === 1 ? name : `${name}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`no free federated credential name for '${name}' among ${existing.length} credentials`);
}
