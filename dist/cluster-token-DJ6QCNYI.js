import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-OJORJU6Q.js";import"./chunk-64US23FP.js";import"./chunk-SD6EYMW7.js";import"./chunk-GEXEPYBP.js";export{b as EntraTokens,a as entraAuthProvider};
//# sourceMappingURL=cluster-token-DJ6QCNYI.js.map
