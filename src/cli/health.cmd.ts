import { diagnostic } from '../common/log.js';
import { Command } from 'commander';
import { maskUrl } from '../config/config.js';
import { dbReason } from '../common/db-reason.js';
import { evaluateHealth, HealthReport } from '../health/health.model.js';
import { healthEnv, liveHealthInputs } from '../health/health.service.js';
import { cliConfig, openDb } from './context.js';
import { EXIT } from './exit-codes.js';

type Mark = 'ok' | 'warn' | 'bad';

/** Exit 0 when the worker is active or paused; 1 when slow, dead, never ran, or the lease is expired. */
export function healthExitCode(h: HealthReport): number {
  if (h.lease.status === 'expired') return EXIT.failed;
  return h.worker_state === 'active' || h.worker_state === 'paused' ? EXIT.ok : EXIT.failed;
}

/** The runbook's sections, with ✅/⚠️/❌ and colour on a terminal, plain text when piped. */
export function renderHealth(h: HealthReport, dbUrl: string, tty: boolean): string {
  const color = (m: Mark, s: string) =>
    tty ? `\x1b[${m === 'ok' ? 32 : m === 'warn' ? 33 : 31}m${s}\x1b[0m` : s;
  const mark = (m: Mark) =>
    tty
      ? m === 'ok'
        ? '✅'
        : m === 'warn'
          ? '⚠️ '
          : '❌'
      : m === 'ok'
        ? '[OK]'
        : m === 'warn'
          ? '[WARN]'
          : '[FAIL]';
  const line = (m: Mark, text: string) => `  ${mark(m)} ${color(m, text)}`;
  const head = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
  const ws = h.worker_state;
  const tickMark: Mark = ws === 'active' || ws === 'paused' ? 'ok' : ws === 'slow' ? 'warn' : 'bad';
  const leaseMark: Mark =
    h.lease.status === 'valid'
      ? 'ok'
      : h.lease.status === 'expired'
        ? 'bad'
        : h.flags.paused || h.flags.killed
          ? 'ok'
          : 'warn';
  const q = h.queue_counts;
  const out = [
    `AOL health — database ${maskUrl(dbUrl)} — ${h.server_time_utc}`,
    '',
    head('LAST TICK'),
    h.last_tick_at
      ? line(
          tickMark,
          `worker ${ws}: last tick ${h.last_tick_age_seconds} s ago (${h.last_tick_status}) at ${h.last_tick_at} by ${h.last_tick?.worker}`,
        )
      : line('bad', 'worker never: no tick recorded yet'),
    '',
    head('LEASE'),
    h.lease.status === 'none'
      ? line(leaseMark, 'no lease held')
      : line(
          leaseMark,
          `${h.lease.status}: ${h.lease.owner} epoch ${h.lease.epoch}, ttl ${h.lease.ttl_seconds} s (expires ${h.lease.expires_at})`,
        ),
    '',
    head('CONTROL FLAGS'),
    line(h.flags.paused ? 'warn' : 'ok', `paused=${h.flags.paused}`),
    line(h.flags.killed ? 'bad' : 'ok', `killed=${h.flags.killed}`),
    line(h.flags.proof_mode ? 'ok' : 'warn', `proof_mode=${h.flags.proof_mode}`),
    ...h.scoped_pauses.map((p) =>
      line(
        'warn',
        `scoped pause ${p.pause_id}: ${p.action_types?.join(', ') ?? 'all types'} until ${p.until ?? 'resumed'}`,
      ),
    ),
    line(
      h.control_acknowledged ? 'ok' : 'warn',
      `control version ${h.control_version} ${h.control_acknowledged ? `acknowledged (${h.acknowledgment_delay_ms} ms)` : 'not yet acknowledged'}`,
    ),
    '',
    head('WORKERS'),
    ...(h.workers === null || h.workers.length === 0
      ? [line('warn', 'no worker process seen')]
      : h.workers.map((w) =>
          line(
            w.alive ? 'ok' : 'bad',
            `${w.id} ${w.status}${w.epoch === null ? '' : ` (epoch ${w.epoch})`}, seen ${w.seen_age_seconds} s ago`,
          ),
        )),
    '',
    head('ACTION QUEUE'),
    line(
      q.dlq > 0 || q.unknown > 0 ? 'warn' : 'ok',
      `pending ${q.pending}  running ${q.running}  retry ${q.retry}  success ${q.success}`,
    ),
    line(
      q.dlq > 0 || q.unknown > 0 ? 'warn' : 'ok',
      `failed ${q.failed}  dlq ${q.dlq}  unknown ${q.unknown}  cancelled ${q.cancelled}`,
    ),
  ];
  if (h.warnings.length > 0) {
    out.push(
      '',
      head('WARNINGS'),
      ...h.warnings.map((w) => line('warn', `${w.code}: ${w.message}`)),
    );
  }
  return out.join('\n');
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description(
      'worker, lease, flags and queue at a glance; exit 0 healthy, 1 degraded, 2 database unreachable',
    )
    .option('--json', 'print the same JSON as GET /health/aol')
    .action(async (o: { json?: boolean }) => {
      const config = cliConfig();
      const db = openDb(config);
      try {
        const h = evaluateHealth(await liveHealthInputs(db), healthEnv(config));
        console.log(
          o.json
            ? JSON.stringify({ ...h, database_url: maskUrl(config.databaseUrl!) }, null, 2)
            : renderHealth(h, config.databaseUrl!, !!process.stdout.isTTY),
        );
        process.exitCode = healthExitCode(h);
      } catch (err) {
        const msg = `database unreachable: ${dbReason(err)} (${maskUrl(config.databaseUrl!)})`;
        if (o.json) console.log(JSON.stringify({ status: 'unreachable', reason: msg }));
        else diagnostic(`aol health: ${msg}`);
        process.exitCode = EXIT.unreachable;
      } finally {
        await db.close();
      }
    });
}
