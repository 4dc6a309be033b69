// The entry of dist/setup.js, the package's bin `archetype-deploy`: `archetype-deploy setup ...` from a
// clone (node dist/setup.js setup ...) or with npx. Exit codes: 0 done, 1 refused or failed, 2 a mistake on
// the command line. Expected failures print their message, which names what failed and the fix; never a
// stack trace (ARCHETYPE_DEPLOY_DEBUG=1 adds it, for a bug report).
import { notOnRunner } from '../util/secrets.js';
import { parseSetupArgs, type SetupOptions, setupUsage } from './args.js';
import { runSession } from './run.js';
import { openSession } from './session.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  notOnRunner();
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (argv.length === 0 || argv.some((a) => a === '--help' || a === '-h')) {
    out(setupUsage);
    out('Plans the Azure identities, roles and GitHub settings the workflows need; --yes applies them.');
    out('See docs/github-setup.md.');
    return argv.length === 0 ? 2 : 0;
  }
  let options: SetupOptions;
  try {
    options = parseSetupArgs(argv);
  } catch (error) {
    process.stderr.write(`archetype-deploy: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  try {
    return await runSession(await openSession(options, env), { out });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`setup failed: ${message}\n`);
    if (env.ARCHETYPE_DEPLOY_DEBUG && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
