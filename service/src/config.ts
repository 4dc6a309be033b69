import { readFileSync } from 'node:fs';

/** Runtime settings, all from the environment (12-factor); invalid values stop the process at start. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** How long the server keeps serving after SIGTERM while readiness is 503 (see shutdown.ts). */
  readonly shutdownDelayMs: number;
  readonly logLevel: string;
  readonly version: string;
  /** The git sha baked into the image (Dockerfile ARG REVISION). */
  readonly revision: string;
}

/** Nest injection token for the Config. */
export const CONFIG = Symbol('CONFIG');

export const DEFAULT_PORT = 8000;
// Kubernetes removes a terminating pod from Service endpoints and the ingress asynchronously; 5 s covers
// that propagation on a typical cluster, so no new connection is sent to a pod that already stopped.
export const DEFAULT_SHUTDOWN_DELAY_MS = 5000;
// The longest a request may take to arrive; it also bounds how long shutdown waits for in-flight requests.
export const REQUEST_TIMEOUT_MS = 10_000;
// The service accepts only small JSON documents; anything larger is refused with 413 before it is buffered.
export const BODY_LIMIT_BYTES = 16 * 1024;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  return {
    port: integer(env, 'PORT', DEFAULT_PORT, 0, 65535),
    host: env.HOST || '0.0.0.0',
    shutdownDelayMs: integer(env, 'SHUTDOWN_DELAY_MS', DEFAULT_SHUTDOWN_DELAY_MS, 0, 600_000),
    logLevel,
    version: packageVersion(),
    revision: env.REVISION || 'unknown',
  };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

// package.json sits one level above both src/ (tests) and dist/ (the image).
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
