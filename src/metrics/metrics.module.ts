import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { EventStore } from '../events/event-store.js';
import { VerifyMonitor } from '../events/verify-monitor.js';
import { CONFIG } from '../common/tokens.js';
import type { Config } from '../config/config.js';

@Module({
  controllers: [MetricsController],
  providers: [
    MetricsService,
    {
      provide: VerifyMonitor,
      useFactory: (store: EventStore, config: Config) =>
        new VerifyMonitor(store, config.verifyIntervalSeconds),
      inject: [EventStore, CONFIG],
    },
  ],
  exports: [VerifyMonitor],
})
export class MetricsModule {}
