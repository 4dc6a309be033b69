// The federated subjects compared with what the workflows' runs present: for each job of .github/workflows
// that signs in (deploy.yml and rollback.yml in environment production; preview.yml on pull_request;
// sweep.yml and rollback.yml's preview job on the default branch), the OIDC subject GitHub issues under the
// repository's template, and whether the identity it signs in as trusts it; then whether either identity
// trusts a subject none of its own jobs presents (a pull request's, above all). Pure: what Azure holds is read
// by the caller. Entra's refusal of a mismatch is AADSTS700213, the commonest failure of a first run.
import type { FederatedCredential, IdentityRole } from '../federation-plan.js';
import { githubIssuer } from '../federation-plan.js';
import { type JobContext, oidcSubject, type SubjectTemplate } from '../subjects.js';
import type { CheckRow } from './check-table.js';

/** A job of the workflows that signs in to Azure, and as which identity. */
export interface WorkflowJob {
  /** file under .github/workflows */
  workflow: string;
  /** how the table names it: the event and job */
  run: string;
  identity: IdentityRole;
  context: JobContext | { kind: 'default-branch' };
  /** the ref the workflow file runs from (job_workflow_ref's): the default branch, or a pull request's merge ref */
  from: 'default-branch' | 'pull-request';
}

/** The jobs of this repository's workflows that sign in (test/unit/setup-cluster-subjects.test.ts reads them). */
export const workflowJobs: readonly WorkflowJob[] = [
  {
    workflow: 'deploy.yml',
    run: 'push to the default branch, environment production',
    identity: 'production',
    context: { kind: 'environment', name: 'production' },
    from: 'default-branch',
  },
  {
    workflow: 'rollback.yml',
    run: 'workflow_dispatch, job production',
    identity: 'production',
    context: { kind: 'environment', name: 'production' },
    from: 'default-branch',
  },
  {
    workflow: 'preview.yml',
    run: 'pull_request',
    identity: 'preview',
    context: { kind: 'pull_request' },
    from: 'pull-request',
  },
  {
    workflow: 'rollback.yml',
    run: 'workflow_dispatch, job preview',
    identity: 'preview',
    context: { kind: 'default-branch' },
    from: 'default-branch',
  },
  {
    workflow: 'sweep.yml',
    run: 'schedule',
    identity: 'preview',
    context: { kind: 'default-branch' },
    from: 'default-branch',
  },
];

/** A credential as Azure holds it; app registrations may hold a flexible one (claimsMatchingExpression). */
export interface HeldCredential extends Partial<FederatedCredential> {
  name: string;
  claimsMatchingExpression?: string;
}

export interface SubjectInput {
  template: SubjectTemplate;
  /** the repository as subjects name it: owner/repo, or owner@id/repo@id (immutable subjects) */
  subjectRepository: string;
  /** owner/repo, as job_workflow_ref names it */
  repository: string;
  defaultBranch: string;
  /** the cloud's audience, api://AzureADTokenExchange on the public cloud */
  audience: string;
  issuer?: string;
  /** values of other claims the template names (e.g. repository_owner_id) */
  claims?: Record<string, string>;
  jobs?: readonly WorkflowJob[];
}

/** Stands for the pull request's number in a subject that names refs/pull/<n>/merge. */
export const perPullRequest = '<n>';

/** What each job presents; `varies` when the subject names the pull request, so no exact subject matches all. */
export function presentedSubjects(
  input: SubjectInput,
): Array<{ job: WorkflowJob; subject: string; varies: boolean }> {
  return (input.jobs ?? workflowJobs).map((job) => {
    const ref =
      job.from === 'default-branch'
        ? `refs/heads/${input.defaultBranch}`
        : `refs/pull/${perPullRequest}/merge`;
    const context: JobContext =
      job.context.kind === 'default-branch'
        ? { kind: 'ref', ref: `refs/heads/${input.defaultBranch}` }
        : job.context;
    const claims = {
      ...input.claims,
      job_workflow_ref: `${input.repository}/.github/workflows/${job.workflow}@${ref}`,
      ref,
    };
    const subject = oidcSubject(input.template, input.subjectRepository, context, claims);
    return { job, subject, varies: subject.includes(perPullRequest) };
  });
}

/** One row per job (trusted by its identity?) and one per identity (trusts nothing else?). */
export function compareSubjects(
  input: SubjectInput,
  held: Record<IdentityRole, HeldCredential[]>,
): CheckRow[] {
  const issuer = input.issuer ?? githubIssuer;
  const presented = presentedSubjects(input);
  const rows: CheckRow[] = presented.map(({ job, subject, varies }) => {
    const check = `signs in from ${job.workflow} (${job.run})`;
    const sample = subject.replaceAll(perPullRequest, '1');
    const trusting = held[job.identity].filter((c) => c.issuer === issuer && matches(c, sample));
    const good = trusting.find((c) => (c.audiences ?? []).includes(input.audience));
    if (good)
      return {
        identity: job.identity,
        check,
        ok: true,
        detail: `subject ${subject}: credential ${good.name}`,
      };
    if (trusting[0])
      return {
        identity: job.identity,
        check,
        ok: false,
        detail: `credential ${trusting[0].name} trusts subject ${subject} for audiences ${(trusting[0].audiences ?? []).join(', ')}, not ${input.audience}: add it`,
      };
    const why = varies
      ? `the subject names the pull request's merge ref, which no exact subject matches for every pull request: drop job_workflow_ref from the OIDC subject template, or give the identity a flexible credential (app registrations only)`
      : `the run would fail with AADSTS700213: add a federated credential with issuer ${issuer}, this subject and audience ${input.audience}`;
    return {
      identity: job.identity,
      check,
      ok: false,
      detail: `no credential trusts subject ${subject}; ${why}`,
    };
  });
  for (const identity of ['production', 'preview'] as const) {
    const own = presented.filter((p) => p.job.identity === identity);
    const others = presented.filter((p) => p.job.identity !== identity);
    const extra = held[identity].flatMap((c) => {
      if (own.some((p) => c.issuer === issuer && matches(c, p.subject.replaceAll(perPullRequest, '1'))))
        return [];
      const theirs = others.find(
        (p) => c.issuer === issuer && matches(c, p.subject.replaceAll(perPullRequest, '1')),
      );
      return [
        theirs
          ? `${c.name} trusts ${theirs.job.workflow}'s subject (${theirs.job.run}): those runs could sign in as ${identity}`
          : `${c.name} trusts ${c.subject ?? c.claimsMatchingExpression ?? '?'}, which none of its workflows presents`,
      ];
    });
    rows.push({
      identity,
      check: 'trusts only its own workflows',
      ok: extra.length === 0,
      detail:
        extra.length === 0
          ? `${held[identity].length} federated credential(s), each used`
          : `${extra.join('; ')}: delete it`,
    });
  }
  return rows;
}

/** Whether the credential admits `subject`: equal, or a flexible credential's `claims['sub'] matches '<glob>'`. */
function matches(c: HeldCredential, subject: string): boolean {
  if (c.subject) return c.subject === subject;
  const glob = /claims\['sub'\]\s+matches\s+'([^']*)'/.exec(c.claimsMatchingExpression ?? '')?.[1];
  if (glob === undefined) return false;
  const pattern = glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${pattern.join('.*')}$`).test(subject);
}
