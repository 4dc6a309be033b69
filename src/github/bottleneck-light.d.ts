// bottleneck's light build (no Redis clustering), the one @octokit/plugin-throttling loads: its types are
// those of the full build.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
