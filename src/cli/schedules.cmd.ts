import { Command } from 'commander';
import { Db } from '../db/db.js';
import { ScheduleView, SchedulesService } from '../schedules/schedules.service.js';
import { MAX_CATCH_UP } from '../schedules/schedule.decider.js';
import { cliActor, cliConfig, openDb, UsageError, usageInt } from './context.js';

async function withService<T>(fn: (s: SchedulesService, db: Db) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const db = openDb(config);
  try {
    return await fn(new SchedulesService(db, config), db);
  } finally {
    await db.close();
  }
}

/** One schedule per line: id, status, cron and zone, action type, the next fire time. */
export function scheduleTable(schedules: readonly ScheduleView[]): string {
  if (schedules.length === 0) return '(no schedules)';
  const head = `${'ID'.padEnd(36)}  ${'STATUS'.padEnd(7)} ${'CRON'.padEnd(16)} ${'ZONE'.padEnd(18)} ${'TYPE'.padEnd(16)} ${'FIRED'.padStart(5)}  NEXT FIRE`;
  const rows = schedules.map(
    (s) =>
      `${s.schedule_id}  ${s.status.padEnd(7)} ${s.cron.padEnd(16)} ${s.time_zone.padEnd(18)} ${s.action_type.padEnd(16)} ${String(s.fired).padStart(5)}  ${s.next_fires[0] ?? '-'}`,
  );
  return [head, ...rows].join('\n');
}

function describe(s: ScheduleView): string {
  const policy = s.missed_fires === 'catch_up' ? `catch_up (at most ${s.catch_up_max})` : 'skip';
  return [
    `schedule ${s.schedule_id}: ${s.status}`,
    `  ${s.cron} (${s.time_zone}) → ${s.action_type}; missed fires: ${policy}`,
    `  next fire times: ${s.next_fires.length ? s.next_fires.join(', ') : '-'}`,
  ].join('\n');
}

const ACTOR_HELP =
  'a label stored beside the actor (metadata.label); the actor is always your database login role';

export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description(
      'recurring schedules: a cron expression that enqueues an action at each fire time',
    );
  schedules
    .command('add')
    .description('create a schedule (the payload is validated as for `aol actions enqueue`)')
    .requiredOption('--cron <expr>', 'five fields, e.g. "0 9 * * 1-5" (minute hour dom month dow)')
    .requiredOption('--type <type>', 'POST_SOCIAL | SEND_EMAIL | HTTP_WEBHOOK | GENERATE_CONTENT')
    .requiredOption('--payload <json>', 'the payload of every enqueued action, as JSON')
    .option('--tz <zone>', 'IANA time zone of the cron expression', 'UTC')
    .option('--missed <policy>', 'after downtime: skip | catch_up', 'skip')
    .option('--catch-up-max <n>', `with --missed catch_up: at most this many (1-${MAX_CATCH_UP})`)
    .option('--reason <text>', 'why (recorded in the event log)')
    .option('--actor <name>', ACTOR_HELP)
    .option('--json', 'print the schedule as JSON')
    .action(
      (o: {
        cron: string;
        type: string;
        payload: string;
        tz: string;
        missed: string;
        catchUpMax?: string;
        reason?: string;
        actor?: string;
        json?: boolean;
      }) =>
        withService(async (svc, db) => {
          let payload: unknown;
          try {
            payload = JSON.parse(o.payload);
          } catch {
            throw new UsageError('--payload must be valid JSON');
          }
          const s = await svc.create(
            {
              cron: o.cron,
              time_zone: o.tz,
              action_type: o.type,
              payload,
              missed_fires: o.missed,
              catch_up_max:
                o.catchUpMax === undefined
                  ? undefined
                  : usageInt(o.catchUpMax, '--catch-up-max', BigInt(MAX_CATCH_UP)),
            },
            await cliActor(db, o.actor),
            o.reason,
          );
          console.log(
            o.json ? JSON.stringify(s, null, 2) : `ScheduleCreated recorded\n${describe(s)}`,
          );
        }),
    );
  schedules
    .command('list')
    .description('schedules with their next fire time')
    .option('--all', 'include deleted schedules')
    .option('--json', 'print the schedules as JSON, with their next fire times')
    .action((o: { all?: boolean; json?: boolean }) =>
      withService(async (svc) => {
        const r = await svc.list(!!o.all);
        console.log(o.json ? JSON.stringify(r, null, 2) : scheduleTable(r.schedules));
      }),
    );
  for (const [name, verb, description] of [
    ['pause', 'pause', 'stop firing until resumed'],
    ['resume', 'resume', 'fire again from now (fire times passed while paused are not fired)'],
    ['delete', 'delete', 'never fire again (the schedule stays readable with --all)'],
  ] as const)
    schedules
      .command(`${name} <schedule-id>`)
      .description(description)
      .option('--reason <text>', 'why (recorded in the event log)')
      .option('--actor <name>', ACTOR_HELP)
      .option('--json', 'print the schedule as JSON')
      .action((id: string, o: { reason?: string; actor?: string; json?: boolean }) =>
        withService(async (svc, db) => {
          const actor = await cliActor(db, o.actor);
          const s = await svc[verb](id, actor, o.reason);
          const event = {
            pause: 'SchedulePaused',
            resume: 'ScheduleResumed',
            delete: 'ScheduleDeleted',
          }[verb];
          console.log(o.json ? JSON.stringify(s, null, 2) : `${event} recorded\n${describe(s)}`);
        }),
      );
}
