import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { Config, ConfigError, maskUrl } from './config/config.js';
import { Db, waitForDatabase } from './db/db.js';
import { assertSchemaCurrent } from './db/migrator.js';
import { EventNotifier } from './events/event-notifier.js';
import { EventStore } from './events/event-store.js';
import { ErrorFilter } from './http/error.filter.js';
import { requestId } from './common/request-id.js';
import { InputLimitsPipe } from './common/input-limits.js';
import { jsonWritesOnly } from './common/json-writes.js';
import { securityHeaders } from './common/security-headers.js';
import { setupOpenApi } from './common/openapi.js';
import { TokenTable } from './auth/tokens.js';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { markProduction, ProofExpirySweeper } from './control/deployment.js';
import { packageRoot } from './common/paths.js';
import { logger } from './common/log.js';
import { startCheckpointer } from './events/checkpointer.js';
import { startSnapshotter } from './history/snapshots.js';
import { Scheduler } from './schedules/scheduler.js';
import { uiStatic } from './web/ui-static.js';

export type RunningApi = Readonly<{ url: string; close: () => Promise<void> }>;

function warnIfOpen(config: Config): void {
  if (config.apiTokens) return;
  const what = config.production
    ? 'PRODUCTION: every write is refused until tokens are configured'
    : 'the API is OPEN: every request is allowed as "anonymous" (admin)';
  logger('api').warn(`!!! AOL_API_TOKENS is not set: ${what}`);
}

/**
 * Start the HTTP API: check the tokens, wait for the database
 * (DB_STARTUP_RETRY_SECS), refuse an unmigrated or newer schema, open the
 * LISTEN connection, then serve.
 */
export async function startApi(config: Config): Promise<RunningApi> {
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required to run the API (npm start provides one)');
  new TokenTable(config.apiTokens); // a malformed AOL_API_TOKENS stops start-up here
  warnIfOpen(config);
  const db = new Db(config.databaseUrl, {
    applicationName: 'aol-api',
    max: config.dbPoolSize,
    connectTimeoutMs: config.dbPoolTimeoutSeconds * 1000,
  });
  // Capacity of the probes' own: a saturated main pool (overload, slow
  // replays) must not make /health report the database unreachable.
  const healthDb = new Db(config.databaseUrl, {
    applicationName: 'aol-api-health',
    max: 3,
    connectTimeoutMs: 3000,
  });
  await waitForDatabase(db, config.dbStartupRetrySecs, (m) => logger('api').warn(m));
  await assertSchemaCurrent(db);
  if (config.production) await markProduction(db, 'api');
  const sweeper = new ProofExpirySweeper(
    db,
    () => `api ${hostname()}:${process.pid}`,
    'api',
  ).start();
  const store = new EventStore(db);
  const notifier = new EventNotifier(config.databaseUrl, () => store.headSeq());
  await notifier.start();

  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register({ config, db, notifier, healthDb }),
    {
      bodyParser: false,
      forceCloseConnections: true,
      bufferLogs: true,
    },
  );
  app.useLogger(app.get(PinoLogger));
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(securityHeaders);
  app.use(jsonWritesOnly);
  app.useBodyParser('json', { limit: '1mb' });
  app.useGlobalPipes(
    new InputLimitsPipe(),
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.useGlobalFilters(new ErrorFilter());
  // Same origin only, unless AOL_CORS_ORIGINS lists the browser origins allowed to call the API.
  app.enableCors({
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    exposedHeaders: ['ETag', 'X-Request-Id'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'If-Match',
      'X-AOL-Client',
      'X-Request-Id',
      'Last-Event-ID',
    ],
  });
  setupOpenApi(app);
  // The operator UI: static files built by Vite (npm run build), public like /health.
  app.use(uiStatic(join(packageRoot(), 'dist', 'ui')));
  // Open (no-token) dev mode answers on loopback only: nobody else on the network can reach it.
  const host = config.apiTokens || config.production ? '0.0.0.0' : '127.0.0.1';
  if (host === '127.0.0.1') logger('api').warn('no tokens: listening on 127.0.0.1 only');
  await app.listen(config.port, host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  logger('api').info(`API listening on ${url} (database ${maskUrl(config.databaseUrl)})`);
  const checkpointer = startCheckpointer(
    db,
    config,
    { actor: `${hostname()}:${process.pid}`, via: 'api' },
    (level, msg) => logger('api')[level](msg),
    notifier,
  );
  if (!checkpointer)
    logger('api').warn('AOL_SIGNING_KEY is not set: no signed checkpoints (GET /health/aol warns)');
  const snapshotter = startSnapshotter(
    db,
    config,
    { actor: `${hostname()}:${process.pid}`, via: 'api' },
    (level, msg) => logger('api')[level](msg),
    notifier,
  );
  // Every API process fires due schedules; several at once are safe (scheduler.ts).
  const scheduler =
    config.schedulerIntervalSeconds > 0
      ? new Scheduler(
          db,
          { actor: `scheduler ${hostname()}:${process.pid}`, via: 'api' },
          config.schedulerIntervalSeconds * 1000,
          (level, msg) => logger('api')[level](msg),
        ).start()
      : undefined;
  return {
    url,
    close: async () => {
      await scheduler?.stop();
      await checkpointer?.stop();
      await snapshotter?.stop();
      sweeper.stop();
      await app.close();
      await notifier.stop();
      await db.close();
      await healthDb.close();
    },
  };
}
