// The one plan of `archetype-deploy setup`: Azure's part (identities, federated credentials, role
// assignments, the cluster's findings) and GitHub's (environment, variables, protections), made from the state
// both sides read. Pure, so the plan is printed before anything changes, and a second run plans nothing.
// The federated credentials' subjects come from what GitHub said (its subject template, the default branch),
// and the GitHub variables from Azure's identities: before they exist, their client ids are placeholders.
import type { AzurePlan } from './azure/plan.js';
import { planAzure } from './azure/plan.js';
import type { AzureState, AzureTarget } from './azure/read-state.js';
import { type IdentityRole, wantedCredentials } from './federation-plan.js';
import { type GitHubPlan, planGitHub } from './github/plan.js';
import { describeGitHubChange } from './github/render.js';
import type { ResolvedReviewers } from './github/reviewers.js';
import type { GitHubState } from './github/state.js';
import { wantedVariables } from './plan.js';
import { planIsEmpty, renderPlan } from './print.js';

/** The GitHub environment production deploys run in (.github/workflows/deploy.yml). */
export const productionEnvironment = 'production';

/** The status checks the default branch's ruleset requires: ci.yml's job `check` (lint, types, check-dist, tests). */
export const requiredChecks = ['check'];

export interface WholePlanInput {
  target: AzureTarget;
  /** the domains the workflows read as variables */
  domains: { previewDomain: string; appHost?: string };
  /** the Entra tenant of the subscription (variable AZURE_TENANT_ID) */
  tenantId: string;
  /** the OIDC audience of the cloud */
  audience: string;
  github: GitHubState;
  azure: AzureState;
  /** the environment's required reviewers from --reviewer (github/reviewers.ts); none: left as they are */
  reviewers?: ResolvedReviewers;
}

export interface WholePlan {
  azure: AzurePlan;
  github: GitHubPlan;
}

/** Stands for the client id of an identity the plan creates, which Azure assigns on creation. */
export function pendingClientId(identity: IdentityRole): string {
  return `(client id of the new ${identity} identity)`;
}

export function planWhole(input: WholePlanInput): WholePlan {
  const clientIds = {
    production: input.azure.identities.production?.clientId ?? pendingClientId('production'),
    preview: input.azure.identities.preview?.clientId ?? pendingClientId('preview'),
  };
  const github = planGitHubSide(input, clientIds);
  // without the subject template (a refusal of the GitHub plan says why) no subject can be known
  const credentials = github.template
    ? wantedCredentials({
        repository: github.subjectRepository,
        defaultBranch: github.defaultBranch,
        template: github.template,
        audience: input.audience,
      })
    : [];
  return { azure: planAzure(input.azure, input.target, credentials), github };
}

/** GitHub's part for the identities' client ids: planned again with the real ones once Azure's is applied. */
export function planGitHubSide(
  input: Pick<WholePlanInput, 'target' | 'tenantId' | 'github' | 'domains' | 'reviewers'>,
  clientIds: Record<IdentityRole, string>,
): GitHubPlan {
  const { target } = input;
  const plan = planGitHub(input.github, {
    environment: productionEnvironment,
    // none given: the environment's reviewers are left as they are
    reviewers: input.reviewers?.reviewers ?? [],
    variables: wantedVariables({
      tenantId: input.tenantId,
      subscriptionId: target.subscriptionId,
      registry: target.registry,
      resourceGroup: target.cluster.resourceGroup,
      clusterName: target.cluster.name,
      clientIds,
      ...input.domains,
    }),
    requiredChecks,
  });
  // a --reviewer that cannot be one refuses the whole plan, like a missing right
  return { ...plan, refusals: [...(input.reviewers?.refusals ?? []), ...plan.refusals] };
}

/** The cluster's part of the plan (cluster-step.ts): a line per rbac/ object to write, and refusals. */
export interface ClusterChanges {
  changes: string[];
  refusals: string[];
}

const noCluster: ClusterChanges = { changes: [], refusals: [] };

export function wholePlanIsEmpty(plan: WholePlan, cluster = noCluster): boolean {
  return azureIsEmpty(plan.azure) && plan.github.changes.length === 0 && cluster.changes.length === 0;
}

/** Why apply would be refused: GitHub's refusals, the caller's missing Azure rights, the cluster's refusals. */
export function blockers(plan: WholePlan, missingRights: string[], cluster = noCluster): string[] {
  return [...plan.github.refusals, ...missingRights, ...cluster.refusals];
}

/**
 * The plan as `terraform plan` shows one: a line per change (+ add, ~ change), a count, then what setup will
 * not do, the cluster's findings, and the refusals; "nothing to change" when there is nothing to do.
 */
export function renderWholePlan(plan: WholePlan, missingRights: string[], cluster = noCluster): string[] {
  const changes = [
    ...(azureIsEmpty(plan.azure) ? [] : renderPlan(azureChanges(plan.azure))),
    ...cluster.changes,
    ...plan.github.changes.map(describeGitHubChange),
  ];
  const lines = changes.map((line) => `  ${line}`);
  if (changes.length === 0) lines.push('nothing to change');
  else {
    const added = changes.filter((line) => line.startsWith('+')).length;
    lines.push(`Plan: ${added} to add, ${changes.length - added} to change, 0 to destroy.`);
  }
  for (const note of [...plan.azure.refusals, ...plan.github.limits]) lines.push(`not done: ${note}`);
  for (const finding of plan.azure.findings) lines.push(`cluster: ${finding}`);
  for (const refusal of blockers(plan, missingRights, cluster)) lines.push(`refused: ${refusal}`);
  return lines;
}

function azureChanges(azure: AzurePlan) {
  return { ...azure, refusals: [], findings: [], environments: [], variables: [] };
}

function azureIsEmpty(azure: AzurePlan): boolean {
  return planIsEmpty(azureChanges(azure));
}
