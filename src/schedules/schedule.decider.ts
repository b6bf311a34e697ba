import { CronExpressionParser } from 'cron-parser';

/**
 * The pure decisions of recurring schedules: is a cron expression and time
 * zone valid, which fire times come next, and which fire times are due given
 * what is already handled, the database time and the missed-fire policy. No
 * I/O, no clock: every time is given.
 */

/** After downtime: `skip` fires only on-time fire times; `catch_up` fires the latest `max` due ones. */
export type MissedFires =
  Readonly<{ policy: 'skip' }> | Readonly<{ policy: 'catch_up'; max: number }>;

export const MISSED_FIRE_POLICIES = ['skip', 'catch_up'] as const;
/** A fire time is late (missed, for `skip`) once it is this far behind the database clock. */
export const LATE_AFTER_SECONDS = 60;
export const MAX_CATCH_UP = 100;
/** Fire times looked at per decision; a longer backlog is recorded as missed chunk by chunk. */
export const SCAN_LIMIT = 10_000;

export type CronSpec = Readonly<{ cron: string; timeZone: string }>;

/** Field messages for a cron expression and a time zone; empty when both are valid. */
export function checkCronSpec(spec: CronSpec): string[] {
  const errors: string[] = [];
  const fields = spec.cron.trim().split(/\s+/);
  if (spec.cron.trim() === '' || fields.length !== 5)
    errors.push(
      `cron: "${spec.cron}" must have 5 fields (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *"`,
    );
  const zoneOk = isTimeZone(spec.timeZone);
  if (fields.length === 5 && spec.cron.trim() !== '')
    try {
      CronExpressionParser.parse(spec.cron, { tz: zoneOk ? spec.timeZone : 'UTC' }).next();
    } catch (err) {
      errors.push(`cron: "${spec.cron}" is not a valid cron expression: ${(err as Error).message}`);
    }
  if (!zoneOk)
    errors.push(
      `time_zone: "${spec.timeZone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`,
    );
  return errors;
}

export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The next `count` fire times strictly after `after`. */
export function fireTimesAfter(spec: CronSpec, after: Date, count: number): Date[] {
  const it = CronExpressionParser.parse(spec.cron, { tz: spec.timeZone, currentDate: after });
  const out: Date[] = [];
  while (out.length < count && it.hasNext()) out.push(it.next().toDate());
  return out;
}

export type FireDecision = Readonly<{
  /** Fire times to fire now, oldest first. */
  fire: Date[];
  /** Due fire times not fired (policy, or a backlog beyond SCAN_LIMIT). */
  missed: Readonly<{ count: number; first: Date; last: Date }> | null;
  /** Every fire time up to here is handled once this decision is recorded. */
  handledThrough: Date;
  /** The first fire time after handledThrough (null: the expression never fires again). */
  nextFire: Date | null;
}>;

/**
 * Given the fire times handled so far (up to `handledThrough`), the database
 * time `now` and the policy, which fire times to fire and which to record as
 * missed. Null when nothing is due.
 */
export function decideFires(
  spec: CronSpec,
  handledThrough: Date,
  now: Date,
  missed: MissedFires,
): FireDecision | null {
  const it = CronExpressionParser.parse(spec.cron, {
    tz: spec.timeZone,
    currentDate: handledThrough,
  });
  const due: Date[] = [];
  let next: Date | null = null;
  while (it.hasNext()) {
    const t = it.next().toDate();
    if (t.getTime() > now.getTime() || due.length === SCAN_LIMIT) {
      next = t;
      break;
    }
    due.push(t);
  }
  if (due.length === 0) return null;
  const last = due[due.length - 1];
  // A backlog longer than one scan: this chunk is all missed, the next decision goes on.
  const backlog = next !== null && next.getTime() <= now.getTime();
  let fire: Date[];
  if (backlog) fire = [];
  else if (missed.policy === 'catch_up') fire = due.slice(-missed.max);
  else fire = due.filter((t) => now.getTime() - t.getTime() < LATE_AFTER_SECONDS * 1000);
  const notFired = due.slice(0, due.length - fire.length);
  return {
    fire,
    missed: notFired.length
      ? { count: notFired.length, first: notFired[0], last: notFired[notFired.length - 1] }
      : null,
    handledThrough: last,
    nextFire: next,
  };
}

/** The idempotency key of one firing: the same fire time never enqueues twice. */
export function fireKey(scheduleId: string, fireTime: Date): string {
  return `schedule:${scheduleId}:${fireTime.toISOString()}`;
}
