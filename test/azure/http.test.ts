import { azurePost } from '../../src/azure/http.js';

// The seam to Azure's REST endpoints retries what can heal (3 attempts) and fails at once on what cannot.

describe('azurePost', () => {
  it('fails at once on a port fetch never connects to, naming the endpoint and the fix', async () => {
    const started = Date.now();
    const error = await azurePost(
      'https://127.0.0.1:6000/oauth2/exchange',
      { headers: {} },
      'ACR token exchange',
    ).then(
      () => new Error('no error'),
      (e: Error) => e,
    );
    expect(error.message).toBe(
      'ACR token exchange: cannot reach https://127.0.0.1:6000/oauth2/exchange: port 6000 of https://127.0.0.1:6000 is one that fetch never connects to (a blocked port of the Fetch standard): the ACR token exchange endpoint is wrong, or the server must listen on another port',
    );
    // no retry: the 1 s and 2 s pauses between attempts never happened
    console.log(`blocked port: failed after ${Date.now() - started} ms`);
  });
});
