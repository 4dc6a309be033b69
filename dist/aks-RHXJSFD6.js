import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-5W3CFZYD.js";import"./chunk-PS7YZ3NV.js";import"./chunk-P24RHF6E.js";import"./chunk-A743LJX2.js";import"./chunk-GOY5R7F2.js";import"./chunk-K5UDOVFR.js";import"./chunk-ELSUVWDW.js";import"./chunk-26LDZTLL.js";import"./chunk-GEXEPYBP.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,g as armError,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-RHXJSFD6.js.map
