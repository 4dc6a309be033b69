import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { drainAndClose } from './shutdown.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const { app, lifecycle } = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  const log = app.getHttpAdapter().getInstance().log;
  // A crash is still one JSON log line (not a bare stack on stderr); Kubernetes restarts the container.
  const crash = (error: unknown) => {
    log.fatal({ err: error }, 'crashed');
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal (e.g. Ctrl-C twice) means "now".
      log.warn({ signal }, 'shutdown: second signal, exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutdown: signal received');
    drainAndClose(app, lifecycle, config.shutdownDelayMs).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  // Before the logger exists (bad configuration): still one JSON line, on stderr.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${JSON.stringify({ level: 60, time: Date.now(), msg: `startup failed: ${message}` })}\n`,
  );
  process.exit(1);
});
