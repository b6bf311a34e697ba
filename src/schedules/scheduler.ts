import { Db, Queryable } from '../db/db.js';
import { EventMetadata, NewEvent } from '../events/event.types.js';
import { EventStore } from '../events/event-store.js';
import { selectNow } from '../control/control.sql.js';
import { nextActionId, selectActionByKey } from '../actions/actions.sql.js';
import { decideFires, fireKey, MissedFires } from './schedule.decider.js';
import { anyScheduleDue, ScheduleRow, selectDueSchedules } from './schedules.sql.js';

/** Schedules handled per transaction; more due ones wait for the next round (a second later). */
const BATCH = 50;

export type FireResult = Readonly<{
  fired: number;
  missed: number;
  /** Schedules that could not be decided (e.g. a cron expression appended by hand that does not parse): left as they are, the others still fire. */
  failed?: readonly Readonly<{ schedule_id: string; error: string }>[];
}>;

/**
 * Fire every due schedule once, on the database clock. Safe with any number
 * of callers at once (every API replica runs this): the decision is taken
 * under the append lock after re-reading the schedules, so a second caller
 * finds the fire times already handled; and each firing's action has the
 * idempotency key `schedule:<id>:<fire time>` (UNIQUE in aol_actions), so a
 * fire time can never enqueue twice. A crash before commit leaves nothing.
 */
export async function fireDueSchedules(
  db: Db,
  metadata: EventMetadata,
  opts: { alwaysLock?: boolean } = {},
): Promise<FireResult> {
  // The common case, nothing due, costs one indexed lookup and no lock.
  if (!opts.alwaysLock && !(await anyScheduleDue(db))) return { fired: 0, missed: 0 };
  return db.tx(async (c) => {
    await EventStore.lock(c);
    const now = await selectNow(c);
    let fired = 0;
    let missed = 0;
    const failed: { schedule_id: string; error: string }[] = [];
    for (const s of await selectDueSchedules(c, now, BATCH)) {
      let d: ReturnType<typeof decideFires>;
      try {
        d = decideFires(
          { cron: s.cron, timeZone: s.time_zone },
          s.handled_through_utc,
          now,
          policyOf(s),
        );
      } catch (err) {
        failed.push({ schedule_id: s.schedule_id, error: (err as Error).message });
        continue;
      }
      if (!d) continue; // next_fire was stale; nothing due
      const next = d.nextFire?.toISOString() ?? null;
      const events: NewEvent[] = [];
      if (d.missed) {
        missed += d.missed.count;
        events.push({
          stream: 'schedule',
          metadata: { ...metadata, reason: `missed-fire policy ${s.missed_fires}` },
          event: {
            type: 'ScheduleFiresMissed',
            data: {
              schedule_id: s.schedule_id,
              count: d.missed.count,
              first: d.missed.first.toISOString(),
              last: d.missed.last.toISOString(),
              next_fire: next,
            },
          },
        });
      }
      for (const t of d.fire) {
        const key = fireKey(s.schedule_id, t);
        const reason = `schedule ${s.schedule_id} fire time ${t.toISOString()}`;
        const existing = await selectActionByKey(c, key);
        const id = existing?.id ?? (await nextActionId(c));
        if (!existing) {
          events.push({
            stream: `action:${id}`,
            expectedVersion: 0,
            metadata: { ...metadata, reason },
            event: {
              type: 'ActionEnqueued',
              data: {
                id,
                idempotency_key: key,
                action_type: s.action_type,
                payload: s.payload,
                not_before: (await realNow(c)).toISOString(),
              },
            },
          });
          fired++;
        }
        events.push({
          stream: 'schedule',
          metadata: { ...metadata, reason },
          event: {
            type: 'ScheduleFired',
            data: {
              schedule_id: s.schedule_id,
              fire_time: t.toISOString(),
              action_id: Number(id),
              idempotency_key: key,
              next_fire: next,
            },
          },
        });
      }
      await EventStore.append(c, events);
    }
    return failed.length ? { fired, missed, failed } : { fired, missed };
  });
}

function policyOf(s: ScheduleRow): MissedFires {
  return s.missed_fires === 'catch_up'
    ? { policy: 'catch_up', max: s.catch_up_max ?? 1 }
    : { policy: 'skip' };
}

/**
 * An enqueued action may start at once: not_before is the real clock (the
 * worker's claim compares with clock_timestamp()), whatever the test clock says.
 */
async function realNow(c: Queryable): Promise<Date> {
  const { rows } = await c.query<{ t: Date }>('SELECT clock_timestamp() AS t');
  return rows[0].t;
}

/**
 * The firing loop: every `intervalMs`, fireDueSchedules(). Runs in every API
 * process (AOL_SCHEDULER_INTERVAL_SECONDS=0 turns it off in one); a failed
 * round (database restart) is simply the next round's work.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Schedules already reported as undecidable: one warning each, not one a second. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly metadata: EventMetadata,
    private readonly intervalMs: number,
    private readonly log: (level: 'info' | 'warn', msg: string) => void,
  ) {}

  start(): this {
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.timer.unref();
    this.poke();
    return this;
  }

  private poke(): void {
    if (this.running) return;
    this.running = fireDueSchedules(this.db, this.metadata)
      .then((r) => {
        if (r.fired || r.missed)
          this.log('info', `schedules: ${r.fired} fired, ${r.missed} missed fire time(s)`);
        for (const f of r.failed ?? [])
          if (!this.reported.has(f.schedule_id)) {
            this.reported.add(f.schedule_id);
            this.log('warn', `schedule ${f.schedule_id} cannot fire: ${f.error}`);
          }
      })
      .catch((err) => this.log('warn', `schedules: round failed: ${(err as Error).message}`))
      .finally(() => (this.running = undefined));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
