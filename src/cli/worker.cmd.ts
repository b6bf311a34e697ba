import { Command } from 'commander';
import { logger } from '../common/log.js';
import { Db, waitForDatabase } from '../db/db.js';
import { assertSchemaCurrent } from '../db/migrator.js';
import { EventStore } from '../events/event-store.js';
import type { Worker, WorkerLog } from '../worker/worker.js';
import { cliConfig, usageInt } from './context.js';
import { assertProductionProofGuard } from '../control/proof-guard.js';
import { markProduction, ProofExpirySweeper } from '../control/deployment.js';
import { announce, Presence } from '../worker/presence.js';

export function workerLog(id: () => string): WorkerLog {
  const log = logger('worker');
  return (level, msg) => log[level]({ worker: id() }, msg);
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
      const maxTicks =
        o.maxTicks === undefined ? undefined : usageInt(o.maxTicks, '--max-ticks', 1_000_000_000n);
      const config = cliConfig();
      let worker: Worker | undefined;
      const log = workerLog(() => worker?.id ?? String(process.pid));
      const db = new Db(config.databaseUrl!, { max: 4, applicationName: 'aol-worker' });
      let stopEarly = false;
      let presence: Presence | undefined;
      const onSignal = () => (worker ? worker.requestStop() : (stopEarly = true));
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      process.on('SIGHUP', onSignal); // a closed terminal: stop as cleanly as on Ctrl-C
      try {
        await waitForDatabase(db, config.dbStartupRetrySecs, (m) => log('warn', m));
        await assertSchemaCurrent(db);
        presence = await announce(db, config.leaseTtlSeconds, log);
        if (config.production) await markProduction(db, 'worker');
        await assertProductionProofGuard(db, config);
        const { EventNotifier } = await import('../events/event-notifier.js');
        const { Worker } = await import('../worker/worker.js');
        const notifier = new EventNotifier(config.databaseUrl!);
        await notifier.start();
        worker = new Worker(config, db, new EventStore(db), notifier, { maxTicks, log, presence });
        const { startCheckpointer } = await import('../events/checkpointer.js');
        const checkpointer = startCheckpointer(
          db,
          config,
          { actor: worker.id, via: 'worker' },
          log,
          notifier,
        );
        const w = worker;
        const sweeper = new ProofExpirySweeper(db, () => w.id, 'worker').start();
        if (stopEarly) worker.requestStop();
        process.exitCode = await worker.run().finally(() => sweeper.stop());
        await checkpointer?.stop();
        await notifier.stop();
      } finally {
        await presence?.stop(); // a start-up failure leaves the row as left, not dead
        await db.close().catch(() => undefined);
      }
      // Don't linger on sockets a timed-out query left behind.
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
}
