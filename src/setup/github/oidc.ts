// The OIDC subject the repository's jobs present, as far as GitHub says: the repository's template
// (actions/get-custom-oidc-sub-claim-for-repo), and, when it defers to its organization (use_default false
// without claim keys: "the organization's default if set, otherwise GitHub's default"), the organization's
// (actions/get-oidc-custom-sub-template-for-org). Repositories created or renamed since mid-2026 present
// immutable subjects (`repo:<owner>@<owner id>/<repo>@<repo id>:…`): GitHub answers the prefix in
// `sub_claim_prefix`, which gives the repository part subjects.ts must be handed.
import type { GitHub } from '../../github/client.js';
import type { SubjectTemplate } from '../subjects.js';
import { setupCall, statusOf } from './connect.js';

export interface OidcState {
  /** the repository's own setting, as GitHub answers it (what setup changes and teardown restores) */
  oidcTemplate: SubjectTemplate;
  /** the template the subjects follow; undefined when it is the organization's and the token cannot read it */
  subjectTemplate?: SubjectTemplate;
  /** the repository as subjects name it: owner/repo, or owner@id/repo@id for immutable subjects */
  subjectRepository: string;
}

export async function readOidc(
  gh: GitHub,
  ownerType: 'User' | 'Organization',
  ids: { owner: number; repo: number },
): Promise<OidcState> {
  const { owner, repo } = gh;
  // actions/get-custom-oidc-sub-claim-for-repo
  const oidc: { use_default: boolean; include_claim_keys?: string[] } & {
    // fields of oidc-custom-sub-repo newer than the octokit types installed
    use_immutable_subject?: boolean;
    sub_claim_prefix?: string;
  } = await setupCall(gh, 'reading the OIDC subject template', (o) =>
    o.rest.actions.getCustomOidcSubClaimForRepo({ owner, repo }),
  );
  const oidcTemplate: SubjectTemplate = { use_default: oidc.use_default };
  if (oidc.include_claim_keys) oidcTemplate.include_claim_keys = oidc.include_claim_keys;
  const prefix = /^repo:(.+)$/.exec(oidc.sub_claim_prefix ?? '')?.[1];
  const subjectRepository =
    prefix ?? (oidc.use_immutable_subject ? `${owner}@${ids.owner}/${repo}@${ids.repo}` : `${owner}/${repo}`);
  const defers = !oidc.use_default && (oidc.include_claim_keys ?? []).length === 0;
  if (!defers || ownerType !== 'Organization')
    return { oidcTemplate, subjectTemplate: oidcTemplate, subjectRepository };
  try {
    // actions/get-oidc-custom-sub-template-for-org
    const org = await setupCall(gh, `reading organization ${owner}'s OIDC subject template`, (o) =>
      o.rest.oidc.getOidcCustomSubTemplateForOrg({ org: owner }),
    );
    return {
      oidcTemplate,
      subjectTemplate: { use_default: false, include_claim_keys: org.include_claim_keys },
      subjectRepository,
    };
  } catch (error) {
    const status = statusOf((error as { cause?: unknown }).cause);
    if (status === 403 || status === 404) return { oidcTemplate, subjectRepository };
    throw error;
  }
}
