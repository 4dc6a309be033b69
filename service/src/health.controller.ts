import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Lifecycle } from './lifecycle.js';

// Liveness says only that the event loop answers; readiness also says whether new traffic is welcome.
@Controller()
export class HealthController {
  constructor(@Inject(Lifecycle) private readonly lifecycle: Lifecycle) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    if (this.lifecycle.draining) {
      reply.code(503);
      return { status: 'draining' };
    }
    return { status: 'ready' };
  }
}
