import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-F6F65WYH.js";import"./chunk-U22AB6PM.js";import"./chunk-QQABQNUC.js";import"./chunk-7KXPH27J.js";import"./chunk-QI3RJYU4.js";import"./chunk-W4RR5PDV.js";import"./chunk-GKR6LQSE.js";import"./chunk-FNW3XXDC.js";import"./chunk-KZ2S3QO6.js";import"./chunk-GEXEPYBP.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,g as armError,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-BMTVF5CG.js.map
