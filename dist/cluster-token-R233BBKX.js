import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-K5UDOVFR.js";import"./chunk-ELSUVWDW.js";import"./chunk-26LDZTLL.js";import"./chunk-GEXEPYBP.js";export{b as EntraTokens,a as entraAuthProvider};
//# sourceMappingURL=cluster-token-R233BBKX.js.map
