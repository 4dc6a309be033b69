import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-XV2TNVAB.js";import"./chunk-H3J55AS4.js";import"./chunk-Z47OCW7V.js";import"./chunk-7VZFCLFX.js";export{b as EntraTokens,a as entraAuthProvider};
//# sourceMappingURL=cluster-token-Y7665TQS.js.map
