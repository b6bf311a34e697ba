import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CoreDeps, CoreModule } from './core.module.js';
import { ControlModule } from './control/control.module.js';
import { EventsModule } from './events/events.module.js';
import { LeaseModule } from './lease/lease.module.js';
import { ActionsModule } from './actions/actions.module.js';
import { HealthController } from './health/health.controller.js';
import { HealthService } from './health/health.service.js';
import { AuthGuard } from './auth/auth.guard.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { WebModule } from './web/web.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { loggingModule } from './common/logging.js';
import { plainProvider } from './common/plain-provider.js';
import { CONFIG } from './common/tokens.js';
import { EventStore } from './events/event-store.js';

/** The API: one module per area, a global guard that is secure by default. */
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
        WebModule,
        SchedulesModule,
      ],
      controllers: [HealthController],
      providers: [
        plainProvider(HealthService, EventStore, CONFIG),
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}
