import { Queryable } from '../db/db.js';

/** A row of aol_schedules (migrations/0017_schedules.sql). */
export type ScheduleRow = Readonly<{
  schedule_id: string;
  cron: string;
  time_zone: string;
  action_type: string;
  payload: unknown;
  missed_fires: 'skip' | 'catch_up';
  catch_up_max: number | null;
  status: 'ACTIVE' | 'PAUSED' | 'DELETED';
  handled_through_utc: Date;
  next_fire_utc: Date | null;
  fired: number;
  missed: number;
  last_fire_utc: Date | null;
  last_action_id: string | null;
  reason: string | null;
  created_by: string;
  created_at_utc: Date;
  updated_at_utc: Date;
}>;

export async function selectSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>(
    'SELECT * FROM aol_schedules WHERE schedule_id = $1',
    [id],
  );
  return rows[0];
}

/** Oldest first; deleted schedules only when asked for. */
export async function selectSchedules(
  db: Queryable,
  includeDeleted: boolean,
): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT * FROM aol_schedules WHERE $1 OR status <> 'DELETED' ORDER BY created_at_utc, schedule_id`,
    [includeDeleted],
  );
  return rows;
}

/** Active schedules with a fire time due on the database clock, soonest first, except `skip`. */
export async function selectDueSchedules(
  db: Queryable,
  now: Date,
  limit: number,
  skip: readonly string[] = [],
): Promise<ScheduleRow[]> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT * FROM aol_schedules WHERE status = 'ACTIVE' AND next_fire_utc <= $1
        AND NOT (schedule_id = ANY ($3::text[]))
      ORDER BY next_fire_utc, schedule_id LIMIT $2`,
    [now, limit, skip],
  );
  return rows;
}

/** Whether anything is due now (database clock), except `skip`: the scheduler's cheap look, without the append lock. */
export async function anyScheduleDue(
  db: Queryable,
  skip: readonly string[] = [],
): Promise<boolean> {
  const { rows } = await db.query<{ due: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM aol_schedules WHERE status = 'ACTIVE' AND next_fire_utc <= aol_now()
                      AND NOT (schedule_id = ANY ($1::text[]))) AS due`,
    [skip],
  );
  return rows[0].due;
}

/** The earliest next fire times of active schedules, for /health/aol's SCHEDULE_OVERDUE. */
export async function selectEarliestFires(
  db: Queryable,
): Promise<{ schedule_id: string; next_fire: string }[]> {
  const { rows } = await db.query<{ schedule_id: string; next_fire: string }>(
    `SELECT schedule_id, aol_iso_ms(next_fire_utc) AS next_fire FROM aol_schedules
      WHERE status = 'ACTIVE' AND next_fire_utc IS NOT NULL ORDER BY next_fire_utc, schedule_id LIMIT 10`,
  );
  return rows;
}
