import { Command } from 'commander';
import { WorkersReport, WorkersService } from '../workers/workers.service.js';
import { cliConfig, openDb } from './context.js';

export function renderWorkers(r: WorkersReport): string {
  if (r.workers.length === 0)
    return `no worker process seen in the last day (${r.server_time_utc})`;
  const rows = r.workers.map((w) => [
    w.id,
    w.status,
    w.epoch === null ? '-' : String(w.epoch),
    `${w.seen_age_seconds}s ago`,
    w.started_at_utc,
  ]);
  const head = ['WORKER', 'STATUS', 'EPOCH', 'LAST SEEN', 'STARTED'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]))
      .join('  ')
      .trimEnd();
  const c = r.counts;
  return [
    fmt(head),
    ...rows.map(fmt),
    '',
    `active ${c.active}  standby ${c.standby}  stopping ${c.stopping}  dead ${c.dead}  left ${c.left}  (database time ${r.server_time_utc})`,
  ].join('\n');
}

export function registerWorkersCommand(program: Command): void {
  program
    .command('workers')
    .description(
      'worker processes: active, standby, stopping, and those that died (no refresh within TTL) or left',
    )
    .option('--json', 'print the same JSON as GET /workers')
    .action(async (o: { json?: boolean }) => {
      const db = openDb(cliConfig());
      try {
        const r = await new WorkersService(db).list();
        console.log(o.json ? JSON.stringify(r, null, 2) : renderWorkers(r));
      } finally {
        await db.close();
      }
    });
}
