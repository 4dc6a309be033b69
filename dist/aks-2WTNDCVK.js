import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-UYQOXYCV.js";import"./chunk-ZNTW652Z.js";import"./chunk-PS7YZ3NV.js";import"./chunk-76GEGUPS.js";import"./chunk-AJIHEXVN.js";import"./chunk-OBDGCDKG.js";import"./chunk-OJORJU6Q.js";import"./chunk-64US23FP.js";import"./chunk-SD6EYMW7.js";import"./chunk-GEXEPYBP.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,g as armError,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-2WTNDCVK.js.map
