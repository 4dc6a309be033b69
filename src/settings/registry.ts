import { maskSecret } from '../util/secrets.js';
import type { Inputs } from './inputs.js';

export type RegistryTarget =
  | { kind: 'acr'; host: string }
  | { kind: 'basic'; host: string; username: string; password: string };

const registryHost =
  /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*)(:\d{1,5})?$/;
const acrSuffix = /\.azurecr\.(io|cn|us)$/i;

/** input registry (+ registry-username/-password): an ACR signed in to with the Azure identity, or Basic. */
export function readRegistry(inputs: Inputs): RegistryTarget {
  const host = inputs.text('registry');
  if (!host) inputs.fail('registry', 'is required, e.g. myregistry.azurecr.io or 127.0.0.1:5000');
  else if (!registryHost.test(host) || host.includes('/'))
    inputs.fail(
      'registry',
      `'${host}' is not a registry host[:port]; give the host only, without a scheme or path`,
    );
  const username = inputs.text('registry-username');
  const password = inputs.raw('registry-password');
  if (password) maskSecret(password);
  if (acrSuffix.test(host) && !username) return { kind: 'acr', host: host.toLowerCase() };
  if (Boolean(username) !== Boolean(password))
    inputs.fail(
      username ? 'registry-password' : 'registry-username',
      'registry-username and registry-password go together',
    );
  return { kind: 'basic', host, username, password };
}
