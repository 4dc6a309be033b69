import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-E7V4NHF4.js";import"./chunk-J3RMOCWI.js";import"./chunk-SD6EYMW7.js";import"./chunk-GEXEPYBP.js";export{b as EntraTokens,a as entraAuthProvider};
//# sourceMappingURL=cluster-token-KODNDJFC.js.map
