import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { NestPinoLogger, requestId } from '../src/logging.js';

const withHeader = (value: string | string[]) =>
  ({ headers: { 'x-request-id': value } }) as unknown as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestId', () => {
  test('honours a plain incoming x-request-id', () => {
    expect(requestId(withHeader('abc-123_DEF.4:5'))).toBe('abc-123_DEF.4:5');
  });

  test('generates a UUID when there is none', () => {
    expect(requestId({ headers: {} } as IncomingMessage)).toMatch(UUID);
  });

  test.each([
    ['a value with spaces and quotes', 'x" injected="1'],
    ['an over-long value', 'a'.repeat(129)],
    ['a repeated header', ['a', 'b']],
  ])('replaces %s with a UUID', (_case, value) => {
    expect(requestId(withHeader(value))).toMatch(UUID);
  });
});

describe('NestPinoLogger', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const fastify = Fastify({ logger: { level: 'trace', stream } });
    return { logger: new NestPinoLogger(fastify.log), lines };
  }

  test('writes Nest messages as JSON lines with their context', () => {
    const { logger, lines } = capture();
    logger.log('Mapped {/, GET} route', 'RouterExplorer');
    logger.warn({ event: 'odd' }, 'Scanner');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: 'Mapped {/, GET} route', context: 'RouterExplorer' }),
      expect.objectContaining({ level: 40, event: 'odd', context: 'Scanner' }),
    ]);
  });

  test('keeps the stack Nest passes with an error', () => {
    const { logger, lines } = capture();
    logger.error('boom', 'Error: boom\n    at handler', 'ExceptionsHandler');
    logger.error(new Error('kaput'), 'ExceptionsHandler');
    expect(lines[0]).toMatchObject({ level: 50, msg: 'boom', stack: 'Error: boom\n    at handler' });
    expect(lines[1]).toMatchObject({ level: 50, msg: 'kaput', err: { message: 'kaput' } });
  });
});
