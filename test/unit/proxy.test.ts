import { privateEndpointOf } from '../../src/kube/client/client.js';
import { proxyFor } from '../../src/util/proxy.js';

// Which calls go through the runner's proxy, and which API server addresses only a cluster's network reaches.

describe('proxyFor', () => {
  const env = (noProxy: string) => ({
    HTTPS_PROXY: 'http://proxy:3128',
    HTTP_PROXY: 'http://p80:3128',
    NO_PROXY: noProxy,
  });

  it('takes HTTPS_PROXY for https and HTTP_PROXY for http', () => {
    expect(proxyFor('https://management.azure.com/x', env(''))).toBe('http://proxy:3128');
    expect(proxyFor('http://registry:5000/v2/', env(''))).toBe('http://p80:3128');
    expect(proxyFor('https://x', {})).toBeUndefined();
    expect(proxyFor('https://x', { https_proxy: 'http://lower:1' })).toBe('http://lower:1');
  });

  it('bypasses what NO_PROXY lists: hosts, domains and their subdomains, ports, *', () => {
    const n = env('localhost,.internal.example, azmk8s.io,10.0.0.5:443');
    expect(proxyFor('https://localhost:6443', n)).toBeUndefined();
    expect(proxyFor('https://a.internal.example', n)).toBeUndefined();
    expect(proxyFor('https://internal.example', n)).toBeUndefined();
    expect(proxyFor('https://x.hcp.eastus.azmk8s.io:443', n)).toBeUndefined();
    expect(proxyFor('https://10.0.0.5', n)).toBeUndefined();
    expect(proxyFor('https://10.0.0.5:6443', n)).toBe('http://proxy:3128');
    expect(proxyFor('https://notinternal.example', n)).toBe('http://proxy:3128');
    expect(proxyFor('https://anything', env('*'))).toBeUndefined();
  });
});

describe('privateEndpointOf', () => {
  it('names privatelink hosts and private ranges', () => {
    expect(privateEndpointOf('https://aks-1-abc.4f2e.privatelink.eastus.azmk8s.io:443')).toContain(
      'privatelink',
    );
    for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.1.1', '100.64.0.1'])
      expect(privateEndpointOf(`https://${ip}:443`)).toBe(`${ip} is a private address`);
    expect(privateEndpointOf('https://[fd00::1]:443')).toContain('ULA');
  });

  it('leaves public names and loopback alone', () => {
    for (const server of [
      'https://aks-1-abc.hcp.eastus.azmk8s.io:443',
      'https://127.0.0.1:6443',
      'https://172.32.0.1',
    ])
      expect(privateEndpointOf(server)).toBeUndefined();
  });
});
