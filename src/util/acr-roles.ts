// The roles that let an identity push to an Azure Container Registry. Which ones a registry honours depends on
// its role assignment permissions mode (learn.microsoft.com, "Azure ABAC repository permissions in Azure
// Container Registry", container-registry-rbac-abac-repository-permissions): in 'RBAC Registry Permissions'
// mode AcrPush; in 'RBAC Registry + ABAC Repository Permissions' mode AcrPull, AcrPush and AcrDelete are not
// honoured, and 'Container Registry Repository Writer' pushes. Shared by the token exchange's hint
// (azure/acr.ts) and the push refusal (docker/push-retry.ts), which may not import each other.

/** The user name that tells ACR the password is one of its refresh tokens (docker login). */
export const acrRefreshTokenUser = '00000000-0000-0000-0000-000000000000';

/** What to assign so that `assignee` may push to `registryHost`, for both modes, with the az commands. */
export function acrPushRoleFix(assignee: string, registryHost: string): string {
  const name = registryHost.split('.')[0] ?? registryHost;
  const scope = `$(az acr show --name ${name} --query id --output tsv)`;
  return (
    `assign AcrPush on the registry (a registry in 'RBAC Registry + ABAC Repository Permissions' mode ignores AcrPush: ` +
    `assign 'Container Registry Repository Writer' instead; the registry's Properties page shows its mode), e.g.\n` +
    `  az role assignment create --assignee ${assignee} --role AcrPush --scope ${scope}\n` +
    `  az role assignment create --assignee ${assignee} --role "Container Registry Repository Writer" --scope ${scope}   # ABAC mode`
  );
}
