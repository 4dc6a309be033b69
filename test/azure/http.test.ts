import { azurePost } from '../../src/azure/http.js';

// The seam to Azure's REST endpoints retries what can heal (3 attempts) and fails at once on what cannot.

describe('azurePost', () => {
  it('fails at once on a port fetch never connects to, naming the endpoint and the fix', async () => {
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
    // the message is the hopeless-error one, not a retried outage's ("after 3 attempts"): how soon it fails
    // is the benchmark's to measure, not a timed assertion's
    expect(error.message).not.toMatch(/attempts|try again/);
  });
});
