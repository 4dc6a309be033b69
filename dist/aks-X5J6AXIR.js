import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-YIPRNB24.js";import"./chunk-ZNTW652Z.js";import"./chunk-PS7YZ3NV.js";import"./chunk-76GEGUPS.js";import"./chunk-AJIHEXVN.js";import"./chunk-O2MT4Y63.js";import"./chunk-E7V4NHF4.js";import"./chunk-J3RMOCWI.js";import"./chunk-SD6EYMW7.js";import"./chunk-GEXEPYBP.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,g as armError,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-X5J6AXIR.js.map
