import { EnvHttpProxyAgent } from 'undici';

// The proxy the runner's environment names for a URL, the way curl, Go and undici read it: HTTPS_PROXY (or
// https_proxy) for https, HTTP_PROXY for http, unless NO_PROXY lists the host. The Azure SDK reads the same
// variables for its own calls; this is for the calls the action makes itself (Kubernetes, ARM, ACR).

/** The proxy URL for `target`, or undefined to go direct. */
export function proxyFor(target: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  const proxy =
    url.protocol === 'https:'
      ? env.HTTPS_PROXY || env.https_proxy
      : url.protocol === 'http:'
        ? env.HTTP_PROXY || env.http_proxy
        : undefined;
  if (!proxy) return undefined;
  return bypassed(url, env.NO_PROXY ?? env.no_proxy ?? '') ? undefined : proxy;
}

/** NO_PROXY: '*', or entries of host, .domain / domain (and its subdomains), IP, each with an optional :port. */
function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!match) continue;
    const name = (match[1] ?? '').replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (match[2] && match[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

let agent: EnvHttpProxyAgent | undefined;

/** undici's dispatcher that reads the same variables, shared by the action's own fetch calls (ARM, ACR, registry). */
export function proxyDispatcher(): EnvHttpProxyAgent {
  agent ??= new EnvHttpProxyAgent();
  return agent;
}
