import type { V1Node } from '@kubernetes/client-node';
import { formatPlatform, type ImagePlatform } from '../../util/platform.js';
import { type Finding, finding } from './findings.js';
import { nameList, nodePlatform } from './scheduling.js';

// The write-up's first pain: an arm64 image (built on a Mac) on amd64 nodes starts nowhere ("exec format
// error"). Compares the pushed image's platforms with the nodes its pods may be scheduled to. Pure.

const aliases: Record<string, string> = { x86_64: 'amd64', x86: '386', aarch64: 'arm64', armhf: 'arm' };
const norm = (arch: string) => aliases[arch] ?? arch;

export function checkArchitecture(
  workload: string,
  image: string,
  platforms: ImagePlatform[],
  nodes: V1Node[],
): Finding[] {
  if (platforms.length === 0)
    return [
      finding(
        'architecture',
        `${workload}: the image ${image} declares no platform (no os/architecture in its manifest or config); rebuild it with docker buildx and input 'platforms', e.g. linux/amd64`,
      ),
    ];
  const known = nodes.flatMap((node) => {
    const p = nodePlatform(node);
    return p ? [{ name: node.metadata?.name ?? '?', os: p.os, architecture: norm(p.architecture) }] : [];
  });
  if (known.length === 0) return [];
  const runs = (n: { os: string; architecture: string }) =>
    platforms.some((p) => p.os === n.os && norm(p.architecture) === n.architecture);
  const wrong = known.filter((n) => !runs(n));
  if (wrong.length === 0) return [];

  const show = (n: { os: string; architecture: string }) =>
    n.os === 'linux' ? n.architecture : `${n.os}/${n.architecture}`;
  const kinds = [...new Set(wrong.map(show))];
  const needed = [...new Set(wrong.map((n) => `${n.os}/${n.architecture}`))];
  const imageSays =
    platforms.length === 1
      ? `the image is ${formatPlatform(platforms[0] as ImagePlatform)} only`
      : `the image has ${platforms.map(formatPlatform).join(', ')} only`;
  const nodesSay = `${kinds.join(' and ')} (${nameList(wrong.map((n) => n.name))})`;
  if (wrong.length === known.length)
    return [
      finding(
        'architecture',
        `${workload}: ${imageSays}; the nodes this Deployment can use are ${nodesSay}; build with platforms ${needed.join(',')} (input 'platforms')`,
      ),
    ];
  const fine = [...new Set(known.filter(runs).map((n) => n.architecture))];
  const all = [...new Set([...platforms.map(formatPlatform), ...needed])];
  return [
    finding(
      'architecture',
      `${workload}: ${imageSays}; ${wrong.length} of the ${known.length} nodes this Deployment can use ${wrong.length === 1 ? 'is' : 'are'} ${nodesSay}, ` +
        `where its pods would not run${wrong.some((n) => n.os !== platforms[0]?.os) ? '' : " ('exec format error')"}; ` +
        `build with platforms ${all.join(',')} (input 'platforms'), or keep the pods on ${fine.join('/')} nodes with nodeSelector kubernetes.io/arch: ${fine[0]}`,
    ),
  ];
}
