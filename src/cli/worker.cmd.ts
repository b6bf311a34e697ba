import { Command } from 'commander';
import { Db, waitForDatabase } from '../db/db.js';
import { assertSchemaCurrent } from '../db/migrator.js';
import { EventStore } from '../events/event-store.js';
import { EventNotifier } from '../events/event-notifier.js';
import { Worker, WorkerLog } from '../worker/worker.js';
import { cliConfig, UsageError } from './context.js';

export function workerLog(id: () => string): WorkerLog {
  return (level, msg) => {
    const line = `${new Date().toISOString()} [worker ${id()}] ${level}: ${msg}\n`;
    (level === 'info' ? process.stdout : process.stderr).write(line);
  };
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'run the worker: hold the lease and execute due actions every tick (others wait as hot standbys)',
    )
    .option(
      '--max-ticks <n>',
      'run N ticks then exit 0; exit 0 at once if another worker holds the lease (cron mode)',
    )
    .action(async (o: { maxTicks?: string }) => {
      if (o.maxTicks !== undefined && !/^[1-9]\d*$/.test(o.maxTicks))
        throw new UsageError('--max-ticks must be a positive integer');
      const config = cliConfig();
      const maxTicks = o.maxTicks === undefined ? undefined : Number(o.maxTicks);
      let worker: Worker | undefined;
      const log = workerLog(() => worker?.id ?? String(process.pid));
      const db = new Db(config.databaseUrl!, { max: 4, applicationName: 'aol-worker' });
      let stopEarly = false;
      const onSignal = () => (worker ? worker.requestStop() : (stopEarly = true));
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await waitForDatabase(db, config.dbStartupRetrySecs, (m) => log('warn', m));
        await assertSchemaCurrent(db);
        const notifier = new EventNotifier(config.databaseUrl!);
        await notifier.start();
        worker = new Worker(config, db, new EventStore(db), notifier, { maxTicks, log });
        if (stopEarly) worker.requestStop();
        process.exitCode = await worker.run();
        await notifier.stop();
      } finally {
        await db.close().catch(() => undefined);
      }
      // Don't linger on sockets a timed-out query left behind.
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
}
