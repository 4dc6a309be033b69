import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-L6XWMH4U.js";import"./chunk-XPWNW73I.js";import"./chunk-HOBER6ID.js";import"./chunk-GEXEPYBP.js";export{b as EntraTokens,a as entraAuthProvider};
//# sourceMappingURL=cluster-token-G6ZC3FAO.js.map
