import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { Config, ConfigError, maskUrl } from './config/config.js';
import { Db, waitForDatabase } from './db/db.js';
import { assertSchemaCurrent } from './db/migrator.js';
import { EventNotifier } from './events/event-notifier.js';
import { ErrorFilter } from './common/error.filter.js';
import { requestId } from './common/request-id.js';

export type RunningApi = Readonly<{ url: string; close: () => Promise<void> }>;

/**
 * Start the HTTP API: wait for the database (DB_STARTUP_RETRY_SECS), refuse
 * an unmigrated or newer schema, open the LISTEN connection, then serve.
 */
export async function startApi(config: Config): Promise<RunningApi> {
  const log = new Logger('api');
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required to run the API (npm start provides one)');
  const db = new Db(config.databaseUrl, { applicationName: 'aol-api' });
  await waitForDatabase(db, config.dbStartupRetrySecs, (m) => log.warn(m));
  await assertSchemaCurrent(db);
  const notifier = new EventNotifier(config.databaseUrl);
  await notifier.start();

  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register({ config, db, notifier }),
    {
      bodyParser: false,
      forceCloseConnections: true,
      logger: ['error', 'warn'],
    },
  );
  app.use(requestId);
  app.useBodyParser('json', { limit: '1mb' });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  app.useGlobalFilters(new ErrorFilter());
  if (config.corsOrigins.length > 0)
    app.enableCors({ origin: config.corsOrigins, exposedHeaders: ['ETag', 'X-Request-Id'] });
  await app.listen(config.port, '0.0.0.0');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  console.log(`[aol] API listening on ${url} (database ${maskUrl(config.databaseUrl)})`);
  return {
    url,
    close: async () => {
      await app.close();
      await notifier.stop();
      await db.close();
    },
  };
}
