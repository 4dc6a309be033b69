import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-GKR6LQSE.js";import"./chunk-FNW3XXDC.js";import"./chunk-KZ2S3QO6.js";import"./chunk-GEXEPYBP.js";export{b as EntraTokens,a as entraAuthProvider};
//# sourceMappingURL=cluster-token-KLLR74YQ.js.map
