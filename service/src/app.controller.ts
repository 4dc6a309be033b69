import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { CONFIG, type Config } from './config.js';

@Controller()
export class AppController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  @Get()
  info() {
    return { name: 'archetype', version: this.config.version, revision: this.config.revision };
  }

  // The one route that takes a body: it gives the body limit and content-type checks a real target.
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown) {
    return { echo: body ?? null };
  }
}
