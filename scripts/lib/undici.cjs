'use strict';
// What the bundle takes from undici, in place of its index.js (scripts/bundle.mjs): index.js loads all of
// undici (mock agents, caches, cookies, WebSocket, EventSource, interceptors), ~15 ms of every start-up
// that none of the bundled code uses. The build fails when a bundled module asks undici for a name that
// is not exported here.

const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const { getGlobalDispatcher, setGlobalDispatcher } = require('undici/lib/global');

// as index.js does: dispatcher.request(), stream(), pipeline(), connect(), upgrade()
Object.assign(Dispatcher.prototype, require('undici/lib/api'));

/** undici's fetch, with the caller's frames in a failure's stack (as index.js does) */
function fetch(input, init = undefined) {
  return require('undici/lib/web/fetch')
    .fetch(input, init)
    .catch((error) => {
      if (error && typeof error === 'object') Error.captureStackTrace(error, fetch);
      throw error;
    });
}

// fetch and its classes load when first used: the requests and watches of a deploy go through request()
// (src/kube/client/transport.ts), and a run that fetches nothing is spared their ~10 ms of start-up
module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  Dispatcher,
  EnvHttpProxyAgent: require('undici/lib/dispatcher/env-http-proxy-agent'),
  errors: require('undici/lib/core/errors'),
  fetch,
  get FormData() {
    return require('undici/lib/web/fetch/formdata').FormData;
  },
  getGlobalDispatcher,
  get Headers() {
    return require('undici/lib/web/fetch/headers').Headers;
  },
  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),
  get Request() {
    return require('undici/lib/web/fetch/request').Request;
  },
  get Response() {
    return require('undici/lib/web/fetch/response').Response;
  },
  setGlobalDispatcher,
};
