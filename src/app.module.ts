import { DynamicModule, Module } from '@nestjs/common';
import { CoreDeps, CoreModule } from './core.module.js';
import { ControlModule } from './control/control.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthController } from './health/health.controller.js';

@Module({})
export class AppModule {
  static register(deps: CoreDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(deps), ControlModule, EventsModule],
      controllers: [HealthController],
    };
  }
}
