import { DynamicModule, Module } from '@nestjs/common';
import { CoreDeps, CoreModule } from './core.module.js';
import { ControlModule } from './control/control.module.js';
import { EventsModule } from './events/events.module.js';
import { LeaseModule } from './lease/lease.module.js';
import { ActionsModule } from './actions/actions.module.js';
import { HealthController } from './health/health.controller.js';
import { HealthService } from './health/health.service.js';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { loggingModule } from './common/logging.js';

@Module({})
export class AppModule {
  static register(deps: CoreDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggingModule,
        CoreModule.forRoot(deps),
        ControlModule,
        EventsModule,
        LeaseModule,
        ActionsModule,
        MetricsModule,
      ],
      controllers: [HealthController],
      providers: [HealthService, { provide: APP_GUARD, useClass: AuthGuard }],
    };
  }
}
