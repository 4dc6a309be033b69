import type { AccessToken, TokenCredential } from '@azure/identity';
import { EntraTokens } from '../../src/azure/cluster-token.js';

// When the cluster client renews its Entra token: a clock and a credential that counts what it was asked.

function fixture(lifetimeMs: number) {
  let now = 1_000_000;
  let issued = 0;
  const credential: TokenCredential = {
    getToken: async (): Promise<AccessToken> => {
      issued++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { token: `token-${issued}`, expiresOnTimestamp: now + lifetimeMs };
    },
  };
  const out = process.stdout.write;
  const tokens = new EntraTokens(credential, () => now);
  return {
    tokens,
    advance: (ms: number) => {
      now += ms;
    },
    issued: () => issued,
    quiet: async <T>(fn: () => Promise<T>) => {
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        return await fn();
      } finally {
        process.stdout.write = out;
      }
    },
  };
}

describe('EntraTokens', () => {
  it('keeps an hour-long token until 5 minutes before it expires', async () => {
    const f = fixture(60 * 60_000);
    expect(await f.quiet(() => f.tokens.get('s'))).toBe('token-1');
    f.advance(54 * 60_000);
    expect(await f.quiet(() => f.tokens.get('s'))).toBe('token-1');
    f.advance(2 * 60_000);
    expect(await f.quiet(() => f.tokens.get('s'))).toBe('token-2');
    expect(f.tokens.acquired).toBe(2);
  });

  it('renews a short-lived token halfway through its life, one request for concurrent callers', async () => {
    const f = fixture(60_000);
    const first = await f.quiet(() => Promise.all([f.tokens.get('s'), f.tokens.get('s'), f.tokens.get('s')]));
    expect(first).toEqual(['token-1', 'token-1', 'token-1']);
    expect(f.issued()).toBe(1);
    f.advance(29_000);
    expect(await f.quiet(() => f.tokens.get('s'))).toBe('token-1');
    f.advance(2_000);
    expect(await f.quiet(() => f.tokens.get('s'))).toBe('token-2');
  });

  it('holds one token per scope', async () => {
    const f = fixture(60 * 60_000);
    await f.quiet(() => f.tokens.get('a'));
    await f.quiet(() => f.tokens.get('b'));
    expect(f.issued()).toBe(2);
  });
});
