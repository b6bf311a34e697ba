import { DynamicModule, Module } from '@nestjs/common';
import { CoreDeps, CoreModule } from './core.module.js';
import { ControlModule } from './control/control.module.js';
import { EventsModule } from './events/events.module.js';
import { LeaseModule } from './lease/lease.module.js';
import { ActionsModule } from './actions/actions.module.js';
import { HealthController } from './health/health.controller.js';

@Module({})
export class AppModule {
  static register(deps: CoreDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(deps), ControlModule, EventsModule, LeaseModule, ActionsModule],
      controllers: [HealthController],
    };
  }
}
