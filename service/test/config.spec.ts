import { readFileSync } from 'node:fs';
import { DEFAULT_PORT, DEFAULT_SHUTDOWN_DELAY_MS, loadConfig } from '../src/config.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('loadConfig', () => {
  test('defaults: port 8000 on all interfaces, 5 s drain, revision unknown', () => {
    expect(loadConfig({})).toEqual({
      port: DEFAULT_PORT,
      host: '0.0.0.0',
      shutdownDelayMs: DEFAULT_SHUTDOWN_DELAY_MS,
      logLevel: 'info',
      version: pkg.version,
      revision: 'unknown',
    });
    expect(DEFAULT_PORT).toBe(8000);
    expect(DEFAULT_SHUTDOWN_DELAY_MS).toBe(5000);
  });

  test('reads PORT, HOST, SHUTDOWN_DELAY_MS, LOG_LEVEL and REVISION', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      REVISION: '0123abc',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      shutdownDelayMs: 0,
      logLevel: 'warn',
      revision: '0123abc',
    });
  });

  test.each([
    ['PORT', 'http', 'PORT must be an integer from 0 to 65535, got "http"'],
    ['PORT', '70000', 'PORT must be an integer from 0 to 65535, got "70000"'],
    ['PORT', '80.5', 'PORT must be an integer from 0 to 65535, got "80.5"'],
    ['SHUTDOWN_DELAY_MS', '-1', 'SHUTDOWN_DELAY_MS must be an integer from 0 to 600000, got "-1"'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
  ])('rejects %s=%s naming the variable and the value', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
