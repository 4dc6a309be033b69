// GitHub OIDC subjects as the repository's subject template makes them (GitHub REST
// `GET /repos/{owner}/{repo}/actions/oidc/customization/sub`: `use_default`, `include_claim_keys`).
// Default: `repo:<owner>/<repo>:<context>`. A custom template: its claim keys in order, each as
// `<key>:<value>`, where the key `context` stands for the job's context (`environment:<name>`,
// `pull_request`, `ref:refs/heads/<branch>`) written without its own key.

/** The repository's OIDC subject template, as GitHub answers it. */
export interface SubjectTemplate {
  use_default: boolean;
  include_claim_keys?: string[];
}

/** What a job presents: its context, and any other claim value a custom template names. */
export type JobContext =
  | { kind: 'environment'; name: string }
  | { kind: 'pull_request' }
  | { kind: 'ref'; ref: string };

/** The context part of a subject: `environment:production`, `pull_request`, `ref:refs/heads/main`. */
export function contextClaim(context: JobContext): string {
  if (context.kind === 'environment') return `environment:${context.name}`;
  if (context.kind === 'pull_request') return 'pull_request';
  return `ref:${context.ref}`;
}

/**
 * The subject a job of `repository` (owner/name) presents under `template`. Claims other than `repo` and
 * `context` come from `claims` (e.g. `repository_owner_id`, `job_workflow_ref`); one the template names
 * but `claims` lacks is an error naming it, since a guessed value would never match.
 */
export function oidcSubject(
  template: SubjectTemplate,
  repository: string,
  context: JobContext,
  claims: Record<string, string> = {},
): string {
  const keys = template.use_default ? [] : (template.include_claim_keys ?? []);
  if (keys.length === 0) return `repo:${repository}:${contextClaim(context)}`;
  const parts = keys.map((key) => {
    if (key === 'context') return contextClaim(context);
    if (key === 'repo') return `repo:${repository}`;
    const value = claims[key];
    if (value === undefined)
      throw new Error(
        `the repository's OIDC subject template includes claim '${key}', whose value setup cannot know; ` +
          `set the template to one of repo, context and claims setup reads (${Object.keys(claims).join(', ') || 'none'}) ` +
          `with PUT /repos/${repository}/actions/oidc/customization/sub, or add the credential by hand`,
      );
    return `${key}:${value}`;
  });
  return parts.join(':');
}
