import { Command } from 'commander';
import { ActionsService } from '../actions/actions.service.js';
import { ActionView } from '../actions/actions.sql.js';
import { verifyArtifacts } from '../actions/artifacts.js';
import { ACTION_STATUSES } from '../actions/actions.decider.js';
import { Db } from '../db/db.js';
import { cliActor, cliConfig, openDb, UsageError } from './context.js';

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openDb(cliConfig());
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function parseId(v: string): number {
  if (!/^\d{1,15}$/.test(v) || Number(v) < 1)
    throw new UsageError(`action id must be a positive integer, not "${v}"`);
  return Number(v);
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}

/** Actions as a table that fits the terminal (the last column is cut to the width). */
export function actionTable(actions: ActionView[]): string {
  if (actions.length === 0) return '(no actions)';
  const width = process.stdout.columns ?? 120;
  const head = `${'ID'.padStart(6)}  ${'STATUS'.padEnd(9)} ${'TYPE'.padEnd(16)} ${'TRIES'.padStart(5)}  ${'NOT BEFORE'.padEnd(20)} KEY / LAST ERROR`;
  const rows = actions.map((a) => {
    const tail = a.last_error ? `${a.idempotency_key} — ${a.last_error}` : a.idempotency_key;
    const line = `${String(a.id).padStart(6)}  ${a.status.padEnd(9)} ${a.action_type.padEnd(16)} ${String(a.attempts).padStart(5)}  ${a.not_before_utc.slice(0, 19).padEnd(20)} `;
    return line + truncate(tail, Math.max(20, width - line.length));
  });
  return [head, ...rows].join('\n');
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

export function registerActionCommands(program: Command): void {
  const actions = program.command('actions').description('enqueue, list, retry and cancel actions');
  actions
    .command('enqueue')
    .description('queue an action (the same --key again returns the existing action)')
    .requiredOption('--type <type>', 'POST_SOCIAL | SEND_EMAIL | HTTP_WEBHOOK | GENERATE_CONTENT')
    .requiredOption('--payload <json>', 'the payload, as JSON')
    .option('--key <key>', 'idempotency key (default: generated)')
    .option('--not-before <iso>', 'do not run before this time')
    .option(
      '--actor <name>',
      'a label stored beside the actor (metadata.label); the actor is always your database login role',
    )
    .option('--json', 'print the action as JSON')
    .action(
      (o: {
        type: string;
        payload: string;
        key?: string;
        notBefore?: string;
        actor?: string;
        json?: boolean;
      }) =>
        withDb(async (db) => {
          let payload: unknown;
          try {
            payload = JSON.parse(o.payload);
          } catch {
            throw new UsageError('--payload must be valid JSON');
          }
          if (o.notBefore !== undefined && Number.isNaN(Date.parse(o.notBefore)))
            throw new UsageError('--not-before must be an ISO-8601 time');
          const r = await new ActionsService(db, cliConfig()).enqueue(
            { action_type: o.type, payload, idempotency_key: o.key, not_before: o.notBefore },
            await cliActor(db, o.actor),
          );
          print(
            o.json,
            r.action,
            () =>
              `${r.created ? 'enqueued' : 'already queued (same key)'}: action ${r.action.id} ${r.action.status} key ${r.action.idempotency_key}`,
          );
        }),
    );
  actions
    .command('list')
    .description('the newest actions, optionally of one status')
    .option('--status <status>', ACTION_STATUSES.join(' | '))
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action((o: { status?: string; limit: string; json?: boolean }) =>
      withDb(async (db) => {
        const status = o.status?.toUpperCase();
        if (status && !(ACTION_STATUSES as readonly string[]).includes(status))
          throw new UsageError(`--status must be one of ${ACTION_STATUSES.join(', ')}`);
        if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > 500)
          throw new UsageError('--limit must be 1..500');
        const r = await new ActionsService(db).list(status, Number(o.limit), undefined);
        print(o.json, r, () => actionTable(r.actions));
      }),
    );
  for (const op of ['retry', 'cancel'] as const) {
    actions
      .command(`${op} <id>`)
      .description(
        op === 'retry'
          ? 'requeue a DLQ, FAILED or UNKNOWN action'
          : 'cancel a PENDING, RETRY, DLQ, FAILED or UNKNOWN action',
      )
      .option('--reason <text>', 'why (recorded in the event log)')
      .option(
        '--actor <name>',
        'a label stored beside the actor (metadata.label); the actor is always your database login role',
      )
      .option('--json', 'print the action as JSON')
      .action((id: string, o: { reason?: string; actor?: string; json?: boolean }) =>
        withDb(async (db) => {
          const svc = new ActionsService(db);
          const a =
            op === 'retry'
              ? await svc.retry(parseId(id), await cliActor(db, o.actor), o.reason)
              : await svc.cancel(parseId(id), await cliActor(db, o.actor), o.reason);
          print(o.json, a, () => `action ${a.id} is now ${a.status}`);
        }),
      );
  }

  const dlq = program.command('dlq').description('the dead-letter queue');
  dlq
    .command('list')
    .description('actions in the DLQ')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      withDb(async (db) => {
        const r = await new ActionsService(db).list('DLQ', 500, undefined);
        print(o.json, r.actions, () => actionTable(r.actions));
      }),
    );
  for (const op of ['retry', 'cancel'] as const) {
    dlq
      .command(op)
      .description(op === 'retry' ? 'requeue every DLQ action' : 'cancel every DLQ action')
      .option('--reason <text>', 'why (recorded in the event log)')
      .option(
        '--actor <name>',
        'a label stored beside the actor (metadata.label); the actor is always your database login role',
      )
      .action((o: { reason?: string; actor?: string }) =>
        withDb(async (db) => {
          const r = await new ActionsService(db).dlq(op, await cliActor(db, o.actor), o.reason);
          console.log(
            `${op === 'retry' ? 'requeued' : 'cancelled'} ${r.count} action(s)${r.count ? `: ${r.ids.join(', ')}` : ''}`,
          );
        }),
      );
  }

  program
    .command('artifacts')
    .description('proof artifacts')
    .command('verify')
    .description('re-hash every stored artifact; exit 1 if any no longer matches its SHA-256')
    .action(() =>
      withDb(async (db) => {
        const r = await verifyArtifacts(db);
        if (r.bad.length === 0) console.log(`OK: ${r.checked} artifact(s) match their SHA-256`);
        else {
          console.log(`MISMATCH: ${r.bad.length} of ${r.checked} artifact(s): ${r.bad.join(', ')}`);
          process.exitCode = 1;
        }
      }),
    );
}
