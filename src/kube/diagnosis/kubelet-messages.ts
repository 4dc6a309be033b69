// What the kubelet's words mean. The shapes are the kubelet's and containerd's own (pkg/kubelet/images
// image_manager.go: event reason "Failed", 'Failed to pull image "<ref>": <runtime error>'; the container
// runtime's errors: '... failed to resolve reference "<ref>": <ref>: not found', '... 401 Unauthorized',
// 'failed to authorize: failed to fetch anonymous token: ...'; runc's 'exec /app: exec format error'; the
// prober's 'Readiness probe failed: HTTP probe failed with statuscode: 503'). Pure.

export type PullFailureKind = 'not-found' | 'unauthorized' | 'unreachable' | 'unknown';

export interface PullFailure {
  kind: PullFailureKind;
  /** the runtime's message, without the kubelet's prefixes */
  detail: string;
}

const unauthorized =
  /\b401\b|\b403\b|unauthori[sz]ed|forbidden|authorization failed|failed to authorize|insufficient_scope|pull access denied|denied:|authentication required|no basic auth credentials/i;
const notFound = /\bnot found\b|manifest unknown|name unknown|code = NotFound|\b404\b/i;
const unreachable =
  /no such host|i\/o timeout|connection refused|network is unreachable|TLS handshake timeout|x509:|certificate|server gave HTTP response to HTTPS client|context deadline exceeded|Client\.Timeout/i;

/** Classifies the pull errors the kubelet reported (newest first preferred); undefined when there are none. */
export function classifyPull(messages: string[]): PullFailure | undefined {
  const real = messages.map(stripPull).filter((m) => m && !/^Back-off pulling image "[^"]*"$/.test(m));
  if (real.length === 0) return undefined;
  for (const [kind, pattern] of [
    ['unauthorized', unauthorized],
    ['not-found', notFound],
    ['unreachable', unreachable],
  ] as const) {
    const hit = real.find((m) => pattern.test(m));
    if (hit) return { kind, detail: hit };
  }
  return { kind: 'unknown', detail: real[0] ?? '' };
}

/** 'Failed to pull image "x": rpc error: code = Unknown desc = failed to ...' -> 'failed to ...' */
function stripPull(message: string): string {
  return message
    .replace(/^Failed to pull image "[^"]*":\s*/, '')
    .replace(/^Back-off pulling image "[^"]*":\s*(ErrImagePull:\s*)?/, '')
    .replace(/^\[?rpc error: code = \w+ desc = /, '')
    .replace(/\]$/, '')
    .trim();
}

/** The last part of a long runtime error chain, which is the one that says why. */
export function lastCause(detail: string, max = 160): string {
  const parts = detail.split(/: (?=[a-z0-9"[])/i);
  let tail = parts.at(-1) ?? detail;
  // "<ref>: not found" -> keep the reference with it
  for (let i = parts.length - 2; i >= 0 && tail.length < 40; i--) tail = `${parts[i]}: ${tail}`;
  return tail.length > max ? `${tail.slice(0, max - 3)}...` : tail;
}

/** ACR's registry name from an image reference: 'myacr.azurecr.io/app@sha256:..' -> 'myacr'. */
export function acrName(image: string): string | undefined {
  return /^([a-z0-9]+)\.azurecr\.(io|cn|us)\//i.exec(image)?.[1];
}

export const execFormatError = /exec format error/i;

const signals: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
};

/** 137 -> 'SIGKILL': a container's exit code above 128 is the signal that ended it. */
export function signalOf(exitCode: number | undefined): string | undefined {
  if (exitCode === undefined || exitCode <= 128 || exitCode > 128 + 64) return undefined;
  return signals[exitCode - 128] ?? `signal ${exitCode - 128}`;
}

export interface ProbeFailure {
  probe: 'Readiness' | 'Liveness' | 'Startup';
  /** "HTTP probe failed with statuscode: 503", 'Get "http://10.0.0.5:8000/readyz": dial tcp ...: connection refused' */
  detail: string;
}

/** 'Readiness probe failed: HTTP probe failed with statuscode: 503' (event reason Unhealthy). */
export function parseProbeFailure(message: string): ProbeFailure | undefined {
  const match =
    /^(Readiness|Liveness|Startup) probe (?:failed|errored)(?: and resulted in unknown state)?:\s*([\s\S]*)$/.exec(
      message.trim(),
    );
  if (!match) return undefined;
  return { probe: match[1] as ProbeFailure['probe'], detail: (match[2] ?? '').trim() };
}

/**
 * How long a pull failure of a pod with imagePullSecrets is given at least. Its first pull may go before the
 * node may read the secret: the node authorizer learns of a pod a moment after it is bound, the kubelet says
 * "Unable to retrieve some image pull secrets" and pulls without credentials, and a private registry
 * refuses. The kubelet's next try, 10 s later, has the secret. A count of observations would fail the
 * rollout before that try.
 */
export const pullSecretGraceMs = 20_000;

/** An image pull failure (ErrImagePull, ImagePullBackOff) of a pod that pulls with imagePullSecrets. */
export function pullWithSecrets(pod: { spec?: { imagePullSecrets?: unknown[] } }, reason: string): boolean {
  return (
    (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') &&
    (pod.spec?.imagePullSecrets?.length ?? 0) > 0
  );
}
