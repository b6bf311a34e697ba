import {
  DynamicModule,
  MiddlewareConsumer,
  Module,
  NestModule,
  RequestMethod,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CoreDeps, CoreModule } from './core.module.js';
import { ControlModule } from './control/control.module.js';
import { EventsModule } from './events/events.module.js';
import { LeaseModule } from './lease/lease.module.js';
import { ActionsModule } from './actions/actions.module.js';
import { HealthController, LiveHealthMiddleware } from './health/health.controller.js';
import { HealthService } from './health/health.service.js';
import { healthInputsAt } from './history/health-at.js';
import { AuthGuard } from './auth/auth.guard.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { WebModule } from './web/web.module.js';
import { WorkersModule } from './workers/workers.module.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { loggingModule } from './common/logging.js';
import { CONFIG } from './common/tokens.js';
import { EventStore } from './events/event-store.js';
import { Db } from './db/db.js';
import type { Config } from './config/config.js';
import { HistoryModule } from './history/history.module.js';

/** The API: one module per area, a global guard that is secure by default. */
@Module({})
export class AppModule implements NestModule {
  static register(deps: CoreDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggingModule,
        CoreModule.forRoot(deps),
        ControlModule,
        EventsModule,
        HistoryModule,
        LeaseModule,
        ActionsModule,
        MetricsModule,
        WorkersModule,
        AlertsModule,
        WebModule,
        SchedulesModule,
      ],
      controllers: [HealthController],
      providers: [
        {
          provide: HealthService,
          useFactory: (store: EventStore, config: Config, db: Db) =>
            new HealthService(config, healthInputsAt(db, store)),
          inject: [EventStore, CONFIG, Db],
        },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }

  /** After the request log (loggingModule's middleware), before the routes: health.controller.ts. */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(LiveHealthMiddleware)
      .forRoutes({ path: 'health/aol', method: RequestMethod.GET });
  }
}
