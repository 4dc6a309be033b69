import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import pino from 'pino';

// An incoming id is echoed in a header and written to logs, so only a plain token is trusted.
const SAFE_REQUEST_ID = /^[\w.:/+=-]{1,128}$/;

/** Fastify's genReqId: honour the caller's (or the ingress's) x-request-id, else make one. */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * stdout, written asynchronously in batches: one write per 4 KiB of lines, or every 100 ms, instead of a
 * write per line, so that logging every request costs the request little. pino writes what is left
 * synchronously when the process exits (process.exit included), so no line is lost.
 */
export function logDestination(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });
}

/** Pino options: JSON lines on stdout; credentials never reach a log line even if a request is logged. */
export function loggerOptions(level: string, stream: pino.DestinationStream = logDestination()) {
  return {
    level,
    stream,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]'],
      censor: '[redacted]',
    },
  };
}

/**
 * One log line per request, written when the response is finished (Fastify's own pair of lines,
 * "incoming request" and "request completed", is replaced).
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { ...describe(request), status: reply.statusCode, ms: round(reply.elapsedTime) };
    if (error) reply.log.error({ ...line, err: error }, 'request');
    else reply.log.info(line, 'request');
  }
}

/** Echo the request id to the caller, and log the requests the client gave up on before a response. */
export function registerRequestHooks(fastify: FastifyInstance): void {
  // callback hooks: an async one costs every request a promise
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onRequestAbort', async (request) => {
    request.log.info({ ...describe(request), status: null, aborted: true }, 'request');
  });
}

// The query string is left out: it is where callers put tokens.
function describe(request: FastifyRequest) {
  return {
    method: request.method,
    path: request.url.split('?', 1)[0],
    userAgent: request.headers['user-agent'],
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Routes Nest's own logs (startup, unhandled exceptions) into the same JSON stream as Fastify's. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: FastifyBaseLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  // Nest passes the context last and, for errors, a stack before it.
  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context = rest.length > 0 && typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const stack = typeof rest[0] === 'string' ? rest[0] : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ context, ...message });
    } else {
      this.pino[level]({ context, stack }, String(message));
    }
  }
}
