import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f}from"./chunk-QDL55ZQG.js";import"./chunk-ZNTW652Z.js";import"./chunk-QQABQNUC.js";import"./chunk-CFIB62XN.js";import"./chunk-X6E6ZLRJ.js";import"./chunk-OBDGCDKG.js";import"./chunk-OJORJU6Q.js";import"./chunk-64US23FP.js";import"./chunk-SD6EYMW7.js";import"./chunk-GEXEPYBP.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-Z3V3XFIR.js.map
