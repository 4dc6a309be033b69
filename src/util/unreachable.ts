// Connection failures that no retry heals: fetch refuses the port, the host name does not resolve, the
// server's certificate does not verify, or the port does not speak TLS. A refused or reset connection is
// another matter (a server restarting): callers keep retrying those within their bounds.

const tlsCodes =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME_INVALID)$/;

interface Cause {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** The innermost cause's code and message (fetch wraps the socket's error as `cause`). */
function innermost(error: unknown): { code: string; message: string } {
  let e = error as Cause | undefined;
  let code = '';
  let message = '';
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (typeof e.code === 'string') code = e.code;
    if (typeof e.message === 'string') message = e.message;
    e = e.cause as Cause | undefined;
  }
  return { code, message };
}

/**
 * Why a connection to `url` cannot succeed however often it is tried, with the likely fix; undefined when a
 * retry may help. `server` names what the URL came from, e.g. "the kubeconfig's server".
 */
export function hopeless(error: unknown, url: string, server: string): string | undefined {
  const { code, message } = innermost(error);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  if (message === 'bad port')
    return `port ${target.port} of ${target.origin} is one that fetch never connects to (a blocked port of the Fetch standard): ${server} is wrong, or the server must listen on another port`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME')
    return `host ${target.hostname} does not resolve (${code}): check ${server}; a private cluster's name resolves only inside its virtual network, so run on a runner there`;
  if (tlsCodes.test(code))
    return `the certificate of ${target.origin} does not verify (${code}: ${message}): ${server} belongs to another server, or its CA changed (a rotated cluster CA, a TLS-inspecting proxy: give its CA in NODE_EXTRA_CA_CERTS); fetch the credentials again`;
  if (/wrong version number|ERR_SSL_WRONG_VERSION_NUMBER|EPROTO/.test(`${code} ${message}`))
    return `${target.origin} does not speak TLS (it answered the TLS handshake with something else: wrong version number): check the scheme and port of ${server}`;
  return undefined;
}
