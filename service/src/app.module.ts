import { type DynamicModule, Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { CONFIG, type Config } from './config.js';
import { HealthController } from './health.controller.js';
import { Lifecycle } from './lifecycle.js';

@Module({})
export class AppModule {}

/** The module with this process's settings and lifecycle, which main.ts and tests create. */
export function appModule(config: Config, lifecycle: Lifecycle): DynamicModule {
  return {
    module: AppModule,
    controllers: [AppController, HealthController],
    providers: [
      { provide: CONFIG, useValue: config },
      { provide: Lifecycle, useValue: lifecycle },
    ],
  };
}
