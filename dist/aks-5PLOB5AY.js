import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d,e,f,g}from"./chunk-7W5YMQLH.js";import"./chunk-PS7YZ3NV.js";import"./chunk-RX5CFHIX.js";import"./chunk-5AHDBJJY.js";import"./chunk-QJUXFYUL.js";import"./chunk-XV2TNVAB.js";import"./chunk-H3J55AS4.js";import"./chunk-Z47OCW7V.js";import"./chunk-7VZFCLFX.js";export{b as aksApiVersion,c as aksKubeconfig,a as aksServerAppId,g as armError,f as clusterPath,e as localAccountWarning,d as signsInWithEntra};
//# sourceMappingURL=aks-5PLOB5AY.js.map
