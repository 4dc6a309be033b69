import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { appModule } from './app.module.js';
import { BODY_LIMIT_BYTES, type Config, REQUEST_TIMEOUT_MS } from './config.js';
import { Lifecycle } from './lifecycle.js';
import { loggerOptions, NestPinoLogger, RequestLog, registerRequestHooks, requestId } from './logging.js';

export interface App {
  app: NestFastifyApplication;
  lifecycle: Lifecycle;
}

/** Builds the application, not yet listening: main.ts listens on PORT, tests on an ephemeral port. */
export async function createApp(config: Config): Promise<App> {
  const adapter = new FastifyAdapter({
    logger: loggerOptions(config.logLevel),
    logController: new RequestLog(),
    genReqId: requestId,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
  });
  const fastify = adapter.getInstance();
  const lifecycle = new Lifecycle();
  registerRequestHooks(fastify);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    // every answer, errors included: a browser must not guess a type other than the one declared
    reply.header('x-content-type-options', 'nosniff');
    // While draining, ask keep-alive clients (the ingress) to reconnect, so that they move to other pods
    // before this one stops accepting.
    if (lifecycle.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  const app = await NestFactory.create<NestFastifyApplication>(appModule(config, lifecycle), adapter, {
    logger: new NestPinoLogger(fastify.log),
  });
  return { app, lifecycle };
}
