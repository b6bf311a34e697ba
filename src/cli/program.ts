import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { DomainError } from '../common/errors.js';
import { SchemaMismatchError, migrate } from '../db/migrator.js';
import { mapDbError } from '../db/db-errors.js';
import { dbReason } from '../common/db-reason.js';
import { registerControlCommands } from './control.cmd.js';
import { registerEventCommands } from './events.cmd.js';
import { registerWorkerCommand } from './worker.cmd.js';
import { registerActionCommands } from './actions.cmd.js';
import { registerLeaseCommands } from './lease.cmd.js';
import { cliConfig, openDb, UsageError } from './context.js';

import { EXIT } from './exit-codes.js';
import { diagnostic } from '../common/log.js';
import { markProduction } from '../control/deployment.js';
import { registerHealthCommand } from './health.cmd.js';
import { registerKeyCommands } from './checkpoints.cmd.js';
import { registerWorkersCommand } from './workers.cmd.js';
import { registerScheduleCommands } from './schedules.cmd.js';

export { EXIT };

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  '57P01',
  '57P03',
  '3D000',
  '28P01',
]);

export function exitCodeFor(err: unknown): number {
  const e = mapDbError(err);
  if (e instanceof UsageError || e instanceof ConfigError) return EXIT.usage;
  if (e instanceof DomainError) {
    if (e.status === 400) return EXIT.usage;
    if (e.status === 403) return EXIT.forbidden;
    if (e.status === 404) return EXIT.notFound;
    if (e.status === 409) return EXIT.conflict;
    return EXIT.failed;
  }
  const code = (e as { code?: string }).code ?? '';
  if (
    CONNECTION_CODES.has(code) ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(
      (e as Error).message ?? '',
    )
  ) {
    return EXIT.unreachable;
  }
  return EXIT.failed;
}

export function buildProgram(): Command {
  const program = new Command('aol')
    .description(
      'AOL control plane: flags, worker, actions, lease and the event log (needs only DATABASE_URL)',
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('migrate')
    .description('apply pending database migrations (safe to run concurrently)')
    .action(async () => {
      const config = cliConfig();
      const db = openDb(config);
      try {
        const applied = await migrate(db, (m) => console.log(m));
        console.log(
          applied.length ? `${applied.length} migration(s) applied` : 'schema is up to date',
        );
        if (config.production && (await markProduction(db, 'cli')))
          console.log('recorded: this deployment is production (NODE_ENV=production)');
      } finally {
        await db.close();
      }
    });
  registerControlCommands(program);
  registerEventCommands(program);
  registerWorkerCommand(program);
  registerActionCommands(program);
  registerLeaseCommands(program);
  registerHealthCommand(program);
  registerKeyCommands(program);
  registerWorkersCommand(program);
  registerScheduleCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ||
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    const code = exitCodeFor(err);
    const message =
      code === EXIT.unreachable
        ? `database unreachable: ${dbReason(err)}`
        : err instanceof SchemaMismatchError || err instanceof Error
          ? (mapDbError(err) as Error).message
          : String(err);
    diagnostic(`aol: ${message}`);
    return code;
  }
}
