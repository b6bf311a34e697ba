import { randomUUID } from 'node:crypto';
import { Db, Queryable } from '../db/db.js';
import { Config, loadConfig } from '../config/config.js';
import { Actor, metadataFor } from '../common/actor.js';
import { ConflictError, NotFoundError, ValidationError } from '../common/errors.js';
import { EventStore } from '../events/event-store.js';
import { ScheduleEvent } from '../events/event.types.js';
import { selectNow } from '../control/control.sql.js';
import { validateAction } from '../actions/actions.service.js';
import {
  checkCronSpec,
  fireTimesAfter,
  MAX_CATCH_UP,
  MISSED_FIRE_POLICIES,
} from './schedule.decider.js';
import { ScheduleRow, selectSchedule, selectSchedules } from './schedules.sql.js';

export type CreateScheduleInput = Readonly<{
  cron: string;
  time_zone?: string;
  action_type: string;
  payload: unknown;
  missed_fires?: string;
  catch_up_max?: number;
}>;

/** A schedule as GET /schedules, the CLI and the UI show it. */
export type ScheduleView = Readonly<{
  schedule_id: string;
  cron: string;
  time_zone: string;
  action_type: string;
  payload: unknown;
  missed_fires: 'skip' | 'catch_up';
  catch_up_max: number | null;
  status: 'ACTIVE' | 'PAUSED' | 'DELETED';
  /** The coming fire times (database clock), the first possibly already due; empty unless ACTIVE. */
  next_fires: string[];
  handled_through: string;
  fired: number;
  missed: number;
  last_fire: string | null;
  last_action_id: number | null;
  reason: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}>;

export const NEXT_FIRES_SHOWN = 5;

export function toScheduleView(r: ScheduleRow): ScheduleView {
  return {
    schedule_id: r.schedule_id,
    cron: r.cron,
    time_zone: r.time_zone,
    action_type: r.action_type,
    payload: r.payload,
    missed_fires: r.missed_fires,
    catch_up_max: r.catch_up_max,
    status: r.status,
    next_fires: r.status === 'ACTIVE' ? nextFires(r) : [],
    handled_through: r.handled_through_utc.toISOString(),
    fired: r.fired,
    missed: r.missed,
    last_fire: r.last_fire_utc?.toISOString() ?? null,
    last_action_id: r.last_action_id === null ? null : Number(r.last_action_id),
    reason: r.reason,
    created_by: r.created_by,
    created_at: r.created_at_utc.toISOString(),
    updated_at: r.updated_at_utc.toISOString(),
  };
}

/** The coming fire times; none for a schedule whose cron does not parse (appended by hand), so listing never fails. */
function nextFires(r: ScheduleRow): string[] {
  const spec = { cron: r.cron, timeZone: r.time_zone };
  if (checkCronSpec(spec).length > 0) return [];
  return fireTimesAfter(spec, r.handled_through_utc, NEXT_FIRES_SHOWN).map((d) => d.toISOString());
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Recurring schedules: create, list, pause, resume and delete, each an event
 * on the `schedule` stream appended under the append lock after re-reading
 * the schedule. Firing is the scheduler's (scheduler.ts). Free of NestJS: the
 * CLI uses it too (common/plain-provider.ts).
 */
export class SchedulesService {
  constructor(
    private readonly db: Db,
    private readonly config: Config = loadConfig({}),
  ) {}

  /** Every problem of the input as field messages, in one ValidationError; nothing is written. */
  async create(input: CreateScheduleInput, actor: Actor, reason?: string): Promise<ScheduleView> {
    const timeZone = input.time_zone ?? 'UTC';
    const policy = input.missed_fires ?? 'skip';
    const errors = checkCronSpec({ cron: String(input.cron ?? ''), timeZone });
    if (!(MISSED_FIRE_POLICIES as readonly string[]).includes(policy))
      errors.push(`missed_fires must be one of ${MISSED_FIRE_POLICIES.join(', ')}`);
    if (policy === 'catch_up') {
      const n = input.catch_up_max;
      if (n === undefined || !Number.isInteger(n) || n < 1 || n > MAX_CATCH_UP)
        errors.push(
          `catch_up_max: catch_up needs catch_up_max, an integer from 1 to ${MAX_CATCH_UP}`,
        );
    } else if (input.catch_up_max !== undefined)
      errors.push('catch_up_max is only for missed_fires catch_up');
    let payload: unknown;
    try {
      payload = await validateAction(input.action_type, input.payload, this.config);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      errors.push(
        /^(action_type|payload)\b/.test(err.message) ? err.message : `payload: ${err.message}`,
      );
    }
    if (errors.length > 0) throw new ValidationError(errors.join('; '));
    const id = randomUUID();
    return this.db.tx(async (c) => {
      await EventStore.lock(c);
      const now = await selectNow(c);
      const [next] = fireTimesAfter({ cron: input.cron, timeZone }, now, 1);
      await this.append(c, actor, reason, {
        type: 'ScheduleCreated',
        data: {
          schedule_id: id,
          cron: input.cron.trim(),
          time_zone: timeZone,
          action_type: input.action_type,
          payload,
          missed_fires: policy as 'skip' | 'catch_up',
          catch_up_max: policy === 'catch_up' ? input.catch_up_max! : null,
          handled_through: now.toISOString(),
          next_fire: next?.toISOString() ?? null,
        },
      });
      return toScheduleView((await selectSchedule(c, id))!);
    });
  }

  async list(includeDeleted = false): Promise<{ schedules: ScheduleView[] }> {
    return { schedules: (await selectSchedules(this.db, includeDeleted)).map(toScheduleView) };
  }

  async get(id: string): Promise<ScheduleView> {
    return toScheduleView(await this.mustGet(this.db, id));
  }

  pause(id: string, actor: Actor, reason?: string): Promise<ScheduleView> {
    return this.transition(id, ['ACTIVE'], 'paused', actor, reason, () => ({
      type: 'SchedulePaused',
      data: { schedule_id: id },
    }));
  }

  /** Fire times that passed while paused are not fired: the schedule goes on from now. */
  resume(id: string, actor: Actor, reason?: string): Promise<ScheduleView> {
    return this.transition(id, ['PAUSED'], 'resumed', actor, reason, (row, now) => {
      const invalid = checkCronSpec({ cron: row.cron, timeZone: row.time_zone });
      if (invalid.length > 0)
        throw new ConflictError(`schedule ${id} cannot fire: ${invalid.join('; ')}; delete it`);
      const from = now > row.handled_through_utc ? now : row.handled_through_utc;
      const [next] = fireTimesAfter({ cron: row.cron, timeZone: row.time_zone }, from, 1);
      return {
        type: 'ScheduleResumed',
        data: {
          schedule_id: id,
          handled_through: from.toISOString(),
          next_fire: next?.toISOString() ?? null,
        },
      };
    });
  }

  delete(id: string, actor: Actor, reason?: string): Promise<ScheduleView> {
    return this.transition(id, ['ACTIVE', 'PAUSED'], 'deleted', actor, reason, () => ({
      type: 'ScheduleDeleted',
      data: { schedule_id: id },
    }));
  }

  private transition(
    id: string,
    allowed: ScheduleRow['status'][],
    verb: string,
    actor: Actor,
    reason: string | undefined,
    event: (row: ScheduleRow, now: Date) => ScheduleEvent,
  ): Promise<ScheduleView> {
    return this.db.tx(async (c) => {
      await EventStore.lock(c);
      const row = await this.mustGet(c, id);
      if (!allowed.includes(row.status))
        throw new ConflictError(
          `schedule ${id} is ${row.status}; only ${allowed.join(' or ')} schedules can be ${verb}`,
        );
      await this.append(c, actor, reason, event(row, await selectNow(c)));
      return toScheduleView((await selectSchedule(c, id))!);
    });
  }

  private async append(c: Queryable, actor: Actor, reason: string | undefined, e: ScheduleEvent) {
    await EventStore.append(c, [
      { stream: 'schedule', metadata: metadataFor(actor, reason), event: e },
    ]);
  }

  private async mustGet(db: Queryable, id: string): Promise<ScheduleRow> {
    const row = UUID.test(id) ? await selectSchedule(db, id) : undefined;
    if (!row) throw new NotFoundError(`schedule ${id} not found`);
    return row;
  }
}
