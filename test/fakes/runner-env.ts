// What a test needs of the runner around the Azure adapters: environment variables as the runner sets them,
// and the workflow commands (::add-mask::) the action writes to stdout.

/** Sets (or, for undefined, removes) environment variables; returns a function that puts them back. */
export function setEnv(values: Record<string, string | undefined>): () => void {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (vars: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(vars)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(before);
}

/** The runner's environment with nothing of GitHub Actions or Azure in it, so tests do not depend on the host. */
export const bareRunner: Record<string, undefined> = {
  GITHUB_ACTIONS: undefined,
  RUNNER_ENVIRONMENT: undefined,
  ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
  AZURE_CLIENT_ID: undefined,
  AZURE_TENANT_ID: undefined,
  AZURE_CLIENT_SECRET: undefined,
  AZURE_FEDERATED_TOKEN_FILE: undefined,
  AZURE_AUTHORITY_HOST: undefined,
  AZURE_TOKEN_CREDENTIALS: undefined,
};

/** Captures what the action writes to stdout; masked() lists the values it registered with ::add-mask::. */
export function captureStdout(): { output: () => string; masked: () => string[]; restore: () => void } {
  const chunks: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  const output = () => chunks.join('');
  return {
    output,
    masked: () => [...output().matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1] ?? ''),
    restore: () => {
      process.stdout.write = original;
    },
  };
}
