import { Db, Queryable } from '../db/db.js';
import { EventMetadata, NewEvent } from '../events/event.types.js';
import { EventStore } from '../events/event-store.js';
import { selectNow } from '../control/control.sql.js';
import { decideFires, FireDecision, fireKey, MissedFires } from './schedule.decider.js';
import { anyScheduleDue, ScheduleRow, selectDueSchedules } from './schedules.sql.js';

/** Schedules handled per transaction; more due ones wait for the next round (a second later). */
const BATCH = 50;

export type FireResult = Readonly<{
  fired: number;
  missed: number;
  /** Schedules that could not be decided (e.g. a cron expression appended by hand that does not parse): left as they are, the others still fire. */
  failed?: readonly Readonly<{ schedule_id: string; error: string }>[];
  /** Schedules fired or recorded this round; BATCH means more may be due. */
  handled: number;
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
  opts: { alwaysLock?: boolean; skip?: readonly string[] } = {},
): Promise<FireResult> {
  // The common case, nothing due, costs one indexed lookup and no lock.
  if (!opts.alwaysLock && !(await anyScheduleDue(db, opts.skip)))
    return { fired: 0, missed: 0, handled: 0 };
  return db.tx(async (c) => {
    await EventStore.lock(c);
    const now = await selectNow(c);
    const failed: { schedule_id: string; error: string }[] = [];
    // 1. decide, in Node, for each due schedule (pure)
    const decided: { s: ScheduleRow; d: FireDecision }[] = [];
    for (const s of await selectDueSchedules(c, now, BATCH, opts.skip)) {
      try {
        const d = decideFires(
          { cron: s.cron, timeZone: s.time_zone },
          s.handled_through_utc,
          now,
          policyOf(s),
        );
        if (d) decided.push({ s, d }); // null: next_fire was stale; nothing due
      } catch (err) {
        failed.push({ schedule_id: s.schedule_id, error: (err as Error).message });
      }
    }
    // 2. the keys already enqueued (none, unless an operator used one by hand) and new ids, in one query each
    const keys = decided.flatMap(({ s, d }) => d.fire.map((t) => fireKey(s.schedule_id, t)));
    const existing = await selectActionIdsByKey(c, keys);
    const ids = await nextActionIds(c, keys.filter((k) => !existing.has(k)).length);
    const notBefore = (await realNow(c)).toISOString();
    // 3. one batch: per schedule, its missed fire times, then each firing's action and ScheduleFired
    let fired = 0;
    let missed = 0;
    const events: NewEvent[] = [];
    for (const { s, d } of decided) {
      const next = d.nextFire?.toISOString() ?? null;
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
        let id = existing.get(key);
        if (id === undefined) {
          id = ids[fired++];
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
                not_before: notBefore,
              },
            },
          });
        }
        events.push({
          stream: 'schedule',
          metadata: { ...metadata, reason },
          event: {
            type: 'ScheduleFired',
            data: {
              schedule_id: s.schedule_id,
              fire_time: t.toISOString(),
              action_id: id,
              idempotency_key: key,
              next_fire: next,
            },
          },
        });
      }
    }
    if (events.length > 0) await EventStore.append(c, events);
    const handled = decided.length;
    return failed.length ? { fired, missed, failed, handled } : { fired, missed, handled };
  });
}

async function selectActionIdsByKey(c: Queryable, keys: string[]): Promise<Map<string, number>> {
  if (keys.length === 0) return new Map();
  const { rows } = await c.query<{ k: string; id: string }>(
    'SELECT idempotency_key AS k, id FROM aol_actions WHERE idempotency_key = ANY($1::text[])',
    [keys],
  );
  return new Map(rows.map((r) => [r.k, Number(r.id)]));
}

async function nextActionIds(c: Queryable, n: number): Promise<number[]> {
  if (n === 0) return [];
  const { rows } = await c.query<{ id: string }>(
    `SELECT nextval('aol_action_id_seq') AS id FROM generate_series(1, $1)`,
    [n],
  );
  return rows.map((r) => Number(r.id));
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
  /** Schedules that cannot be decided: warned about once, then left out of later rounds (a restart tries them again). */
  private readonly reported = new Set<string>();
  private stopped = false;

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
    this.running = this.round()
      .catch((err) => this.log('warn', `schedules: round failed: ${(err as Error).message}`))
      .finally(() => (this.running = undefined));
  }

  /** Fire everything due: more transactions of BATCH schedules while full ones come back. */
  private async round(): Promise<void> {
    let fired = 0;
    let missed = 0;
    for (;;) {
      const r = await fireDueSchedules(this.db, this.metadata, { skip: [...this.reported] });
      fired += r.fired;
      missed += r.missed;
      for (const f of r.failed ?? [])
        if (!this.reported.has(f.schedule_id)) {
          this.reported.add(f.schedule_id);
          this.log('warn', `schedule ${f.schedule_id} cannot fire: ${f.error}`);
        }
      if (r.handled + (r.failed?.length ?? 0) < BATCH || this.stopped) break;
    }
    if (fired || missed)
      this.log('info', `schedules: ${fired} fired, ${missed} missed fire time(s)`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
