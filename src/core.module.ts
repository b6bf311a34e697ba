import { DynamicModule, Global, Module } from '@nestjs/common';
import { Config } from './config/config.js';
import { CONFIG, HEALTH_DB } from './common/tokens.js';
import { Db } from './db/db.js';
import { EventStore } from './events/event-store.js';
import { EventNotifier } from './events/event-notifier.js';
import { ReplayLimiter } from './common/rate-limit.js';
import { plainProvider } from './common/plain-provider.js';

export type CoreDeps = Readonly<{
  config: Config;
  db: Db;
  notifier?: EventNotifier;
  /** The health probes' pool; defaults to `db`. */
  healthDb?: Db;
}>;

/**
 * The process-wide singletons every feature module uses: the parsed config,
 * the pool, the event store and the LISTEN connection. Created before Nest
 * starts (start-up must wait for the database and check the schema first).
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(deps: CoreDeps): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: deps.config },
      { provide: Db, useValue: deps.db },
      { provide: HEALTH_DB, useValue: deps.healthDb ?? deps.db },
      plainProvider(ReplayLimiter, CONFIG),
      { provide: EventStore, useValue: new EventStore(deps.db) },
      { provide: EventNotifier, useValue: deps.notifier ?? new EventNotifier(deps.db.url) },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
