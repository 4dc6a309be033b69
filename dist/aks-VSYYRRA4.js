import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-O7AK3WM6.js";import"./chunk-U22AB6PM.js";import"./chunk-QQABQNUC.js";import"./chunk-RKZFVCGX.js";import"./chunk-RYFEULBV.js";import"./chunk-W4RR5PDV.js";import"./chunk-GKR6LQSE.js";import"./chunk-FNW3XXDC.js";import"./chunk-KZ2S3QO6.js";import"./chunk-GEXEPYBP.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,g as armError,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-VSYYRRA4.js.map
