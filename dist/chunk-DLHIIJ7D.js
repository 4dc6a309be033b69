import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
var o="00000000-0000-0000-0000-000000000000";function i(e,s){let r=`$(az acr show --name ${s.split(".")[0]??s} --query id --output tsv)`;return`assign AcrPush on the registry (a registry in 'RBAC Registry + ABAC Repository Permissions' mode ignores AcrPush: assign 'Container Registry Repository Writer' instead; the registry's Properties page shows its mode), e.g.
  az role assignment create --assignee ${e} --role AcrPush --scope ${r}
  az role assignment create --assignee ${e} --role "Container Registry Repository Writer" --scope ${r}   # ABAC mode`}export{o as a,i as b};
//# sourceMappingURL=chunk-DLHIIJ7D.js.map
