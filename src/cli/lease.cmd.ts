import { Command } from 'commander';
import { LeaseService } from '../lease/lease.service.js';
import { cliActor, cliConfig, openDb, UsageError } from './context.js';

export function registerLeaseCommands(program: Command): void {
  const lease = program.command('lease').description('the worker lease');
  lease
    .command('show')
    .description('who holds the lease, its epoch and time to live')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const db = openDb(cliConfig());
      try {
        const l = await new LeaseService(db).get();
        if (o.json) console.log(JSON.stringify(l, null, 2));
        else if (l.status === 'none') console.log(`no lease held (last epoch ${l.last_epoch})`);
        else
          console.log(
            `owner ${l.owner}  epoch ${l.epoch}  ${l.status}  ttl ${l.ttl_seconds}s  expires ${l.expires_at}  renewed ${l.renewed_at}`,
          );
      } finally {
        await db.close();
      }
    });
  lease
    .command('release')
    .description('force-release the lease (the holder stops at once; a standby takes over)')
    .option('--force', 'required: this takes the lease from whoever holds it')
    .option('--reason <text>', 'why (recorded in the event log)')
    .option(
      '--actor <name>',
      'a label stored beside the actor (metadata.label); the actor is always your database login role',
    )
    .action(async (o: { force?: boolean; reason?: string; actor?: string }) => {
      if (!o.force) throw new UsageError('lease release needs --force');
      if (!o.reason?.trim()) throw new UsageError('--reason is required and must not be empty');
      const db = openDb(cliConfig());
      try {
        const r = await new LeaseService(db).forceRelease(o.reason, await cliActor(db, o.actor));
        console.log(
          `released lease of ${r.released.owner} (epoch ${r.released.epoch}), seq ${r.seq}`,
        );
      } finally {
        await db.close();
      }
    });
}
