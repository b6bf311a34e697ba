import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SchedulesService } from '../src/schedules/schedules.service.js';
import { fireDueSchedules, Scheduler } from '../src/schedules/scheduler.js';
import { Actor } from '../src/common/actor.js';
import { HealthService } from '../src/health/health.service.js';
import { loadConfig } from '../src/config/config.js';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { events } from './support/queries.js';
import { createLoginRole, liveAndFolded, LoginRole } from './support/roles.js';

/**
 * Schedules against real PostgreSQL, as the roles that use them: an operator
 * manages schedules, an auditor only reads, the service fires. The clock is
 * advanced through the database (aol_clock); after every test the read
 * models equal a rebuild from the log.
 */
describe('schedules: roles, firing on the database clock, rebuild', () => {
  let t: TestDb;
  let op: LoginRole;
  let svc: LoginRole;
  let auditor: LoginRole;
  const scheduler = { actor: 'scheduler test', via: 'api' } as const;
  const actorOf = (r: LoginRole): Actor => ({ name: r.name, via: 'cli' });
  const hook = { url: 'https://example.com/hook', body: { campaign: 1 } };
  /** Set the test clock so that aol_now() is `iso` (seconds precision is plenty here). */
  const clockAt = async (iso: string) => {
    const { rows } = await t.db.query<{ off: number }>(
      `SELECT extract(epoch FROM $1::timestamptz - clock_timestamp())::float8 AS off`,
      [iso],
    );
    await t.db.query('UPDATE aol_clock SET offset_seconds = $1', [rows[0].off]);
  };
  const minuteFromNow = async (minutes: number) => {
    const { rows } = await t.db.query<{ t: Date }>(
      `SELECT date_trunc('minute', aol_now()) + make_interval(mins => $1) + interval '2 seconds' AS t`,
      [minutes],
    );
    return rows[0].t.toISOString();
  };
  const scheduledActions = async (id: string) =>
    (
      await t.db.query<{ key: string }>(
        `SELECT idempotency_key AS key FROM aol_actions WHERE idempotency_key LIKE $1 ORDER BY id`,
        [`schedule:${id}:%`],
      )
    ).rows.map((r) => r.key);

  beforeAll(async () => {
    t = await createTestDb('schedules');
    op = await createLoginRole(t, 'op', ['aol_operator']);
    svc = await createLoginRole(t, 'svc', ['aol_service']);
    auditor = await createLoginRole(t, 'aud', ['aol_auditor']);
  });
  afterEach(async () => {
    const { live, folded } = await liveAndFolded(t.db);
    expect(folded.aol_schedules).toEqual(live.aol_schedules);
    expect(live).toEqual(folded);
  });
  afterAll(async () => {
    for (const r of [op, svc, auditor]) await r.db.close();
    await t.db.close();
  });

  it('an operator creates a schedule: ScheduleCreated on the schedule stream, with its login role as actor', async () => {
    const s = await new SchedulesService(op.db).create(
      {
        cron: '*/5 * * * *',
        time_zone: 'Europe/Berlin',
        action_type: 'HTTP_WEBHOOK',
        payload: hook,
      },
      actorOf(op),
      'every five minutes',
    );
    expect(s).toMatchObject({ status: 'ACTIVE', missed_fires: 'skip', created_by: op.name });
    expect(s.next_fires).toHaveLength(5);
    const gaps = s.next_fires.slice(1).map((f, i) => Date.parse(f) - Date.parse(s.next_fires[i]));
    expect(gaps).toEqual([300_000, 300_000, 300_000, 300_000]);
    const [e] = await events(t.db, `stream = 'schedule' AND type = 'ScheduleCreated'`);
    expect(e).toMatchObject({
      data: { schedule_id: s.schedule_id, cron: '*/5 * * * *', time_zone: 'Europe/Berlin' },
      metadata: { actor: op.name, via: 'cli', reason: 'every five minutes' },
    });
  });

  it('bad input is refused with every field message at once and nothing is written', async () => {
    const before = (await events(t.db)).length;
    await expect(
      new SchedulesService(op.db).create(
        {
          cron: '61 * * * *',
          time_zone: 'Mars/Olympus_Mons',
          action_type: 'HTTP_WEBHOOK',
          payload: { url: 'ftp://nope' },
          missed_fires: 'catch_up',
        },
        actorOf(op),
      ),
    ).rejects.toThrow(/cron: .*; time_zone: .*; catch_up_max: .*; payload\.url /);
    await expect(
      new SchedulesService(op.db).create(
        { cron: '* * * * *', action_type: 'FAX', payload: {} },
        actorOf(op),
      ),
    ).rejects.toThrow(/^action_type must be one of/);
    expect((await events(t.db)).length).toBe(before);
  });

  it('an auditor reads schedules but cannot create one, append schedule events or write the table; nobody writes the table directly', async () => {
    const [s] = (await new SchedulesService(auditor.db).list()).schedules;
    expect(s.status).toBe('ACTIVE');
    await expect(
      new SchedulesService(auditor.db).create(
        { cron: '* * * * *', action_type: 'NOOP', payload: {} },
        actorOf(auditor),
      ),
    ).rejects.toThrow(/permission denied|may not append/);
    await expect(
      new SchedulesService(auditor.db).pause(s.schedule_id, actorOf(auditor)),
    ).rejects.toThrow(/permission denied|may not append/);
    for (const db of [auditor.db, op.db, svc.db])
      await expect(db.query(`UPDATE aol_schedules SET status = 'PAUSED'`)).rejects.toThrow(
        /permission denied|read model/,
      );
    await expect(t.db.query(`UPDATE aol_schedules SET status = 'PAUSED'`)).rejects.toThrow(
      /read model projected from aol_events/,
    );
    await new SchedulesService(op.db).delete(s.schedule_id, actorOf(op));
  });

  it('an operator cannot fire (ScheduleFired is the service’s); the service fires once per fire time on the database clock', async () => {
    const s = await new SchedulesService(op.db).create(
      { cron: '* * * * *', action_type: 'NOOP', payload: { note: 'n1' } },
      actorOf(op),
    );
    await clockAt(await minuteFromNow(1));
    await expect(fireDueSchedules(op.db, scheduler)).rejects.toThrow(/may not append|permission/);
    expect(await scheduledActions(s.schedule_id)).toEqual([]);
    expect(await fireDueSchedules(svc.db, scheduler)).toMatchObject({ fired: 1 });
    // again at the same database time: nothing more
    expect(await fireDueSchedules(svc.db, scheduler, { alwaysLock: true })).toMatchObject({
      fired: 0,
      missed: 0,
    });
    const keys = await scheduledActions(s.schedule_id);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^schedule:${s.schedule_id}:\\d{4}-.*:00\\.000Z$`));
    const fired = await events(t.db, `type = 'ScheduleFired'`);
    expect(fired.at(-1)).toMatchObject({
      data: { schedule_id: s.schedule_id, idempotency_key: keys[0] },
      metadata: { actor: 'scheduler test', via: 'api' },
    });
    await new SchedulesService(op.db).delete(s.schedule_id, actorOf(op));
  });

  it('/health/aol warns SCHEDULE_OVERDUE when a fire time is 30 s past and nobody fired it, for an auditor too', async () => {
    const s = await new SchedulesService(op.db).create(
      { cron: '* * * * *', action_type: 'NOOP', payload: {} },
      actorOf(op),
    );
    const overdue = async () =>
      (
        await new HealthService(loadConfig({}), () => Promise.reject(new Error('live only'))).live(
          auditor.db,
        )
      ).warnings
        .filter((w) => w.code === 'SCHEDULE_OVERDUE')
        .map((w) => w.message);
    expect(await overdue()).toEqual([]);
    await clockAt(await minuteFromNow(2));
    expect(await overdue()).toEqual([expect.stringContaining(`schedule ${s.schedule_id} was due`)]);
    await fireDueSchedules(svc.db, scheduler);
    expect(await overdue()).toEqual([]);
    await new SchedulesService(op.db).delete(s.schedule_id, actorOf(op));
  });

  it('ten schedulers at once over five database minutes: exactly one action per fire time', async () => {
    const s = await new SchedulesService(op.db).create(
      { cron: '* * * * *', action_type: 'NOOP', payload: { note: 'n2' } },
      actorOf(op),
    );
    for (let m = 1; m <= 5; m++) {
      await clockAt(await minuteFromNow(1));
      const results = await Promise.all(
        Array.from({ length: 10 }, () => fireDueSchedules(svc.db, scheduler, { alwaysLock: true })),
      );
      expect(results.reduce((n, r) => n + r.fired, 0)).toBe(1);
    }
    const keys = await scheduledActions(s.schedule_id);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(5);
    const times = keys.map((k) => Date.parse(k.split(':').slice(2).join(':')));
    expect(times.slice(1).map((x, i) => x - times[i])).toEqual([60_000, 60_000, 60_000, 60_000]);
    await new SchedulesService(op.db).delete(s.schedule_id, actorOf(op));
  });

  it('a schedule appended by hand with a cron that does not parse is reported, and the others still fire', async () => {
    const good = await new SchedulesService(op.db).create(
      { cron: '* * * * *', action_type: 'NOOP', payload: {} },
      actorOf(op),
    );
    const { rows } = await op.db.query<{ t: Date }>('SELECT aol_now() AS t');
    const bogus = '11111111-2222-4333-8444-555555555555';
    await op.db.query(`SELECT aol_append('schedule', NULL, 'ScheduleCreated', $1, $2)`, [
      {
        schedule_id: bogus,
        cron: 'every full moon',
        time_zone: 'UTC',
        action_type: 'NOOP',
        payload: {},
        missed_fires: 'skip',
        catch_up_max: null,
        handled_through: rows[0].t.toISOString(),
        next_fire: rows[0].t.toISOString(),
      },
      { actor: 'mallory', via: 'sql' },
    ]);
    await clockAt(await minuteFromNow(1));
    const r = await fireDueSchedules(svc.db, scheduler);
    expect(r.fired).toBe(1);
    expect(r.failed).toEqual([{ schedule_id: bogus, error: expect.any(String) }]);
    expect(await scheduledActions(good.schedule_id)).toHaveLength(1);
    expect(await scheduledActions(bogus)).toEqual([]);
    // listing still works; the bogus one shows no fire times and cannot be resumed
    const listed = (await new SchedulesService(auditor.db).list()).schedules;
    expect(listed.find((x) => x.schedule_id === bogus)).toMatchObject({ next_fires: [] });
    await new SchedulesService(op.db).pause(bogus, actorOf(op));
    await expect(new SchedulesService(op.db).resume(bogus, actorOf(op))).rejects.toThrow(
      /cannot fire: cron: .*every full moon/,
    );
    for (const id of [good.schedule_id, bogus])
      await new SchedulesService(op.db).delete(id, actorOf(op));
  });

  it('the firing loop: 120 schedules due in one minute all fire within one round of transactions of 50', async () => {
    const svcOp = new SchedulesService(op.db);
    const made = [];
    for (let i = 0; i < 120; i++)
      made.push(
        await svcOp.create({ cron: '* * * * *', action_type: 'NOOP', payload: {} }, actorOf(op)),
      );
    await clockAt(await minuteFromNow(1));
    const logs: string[] = [];
    const loop = new Scheduler(svc.db, scheduler, 60_000, (_l, m) => logs.push(m)).start();
    try {
      // one poke at start (the interval is a minute): every due schedule fires in it
      await waitFor(() => logs.length > 0, 20000, 'the first round');
      const { rows } = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM aol_actions WHERE idempotency_key LIKE 'schedule:%' AND created_at_utc > now() - interval '1 hour'
            AND split_part(idempotency_key, ':', 2) = ANY ($1::text[])`,
        [made.map((m) => m.schedule_id)],
      );
      expect(rows[0].n).toBe(120);
      expect(logs).toEqual(['schedules: 120 fired, 0 missed fire time(s)']);
    } finally {
      await loop.stop();
    }
    for (const m of made) await svcOp.delete(m.schedule_id, actorOf(op));
  });

  it('after downtime: skip records the missed fire times, catch_up fires at most N; pause and delete stop firing', async () => {
    const svcOp = new SchedulesService(op.db);
    const skip = await svcOp.create(
      { cron: '* * * * *', action_type: 'NOOP', payload: {} },
      actorOf(op),
    );
    const catchUp = await svcOp.create(
      {
        cron: '* * * * *',
        action_type: 'NOOP',
        payload: {},
        missed_fires: 'catch_up',
        catch_up_max: 3,
      },
      actorOf(op),
    );
    const paused = await svcOp.create(
      { cron: '* * * * *', action_type: 'NOOP', payload: {} },
      actorOf(op),
    );
    await svcOp.pause(paused.schedule_id, actorOf(op), 'holiday');
    // ten database minutes pass with no scheduler running: 9 fire times are late, the 10th is on time
    await clockAt(await minuteFromNow(10));
    await fireDueSchedules(svc.db, scheduler);
    expect(await scheduledActions(skip.schedule_id)).toHaveLength(1);
    expect(await scheduledActions(catchUp.schedule_id)).toHaveLength(3);
    expect(await scheduledActions(paused.schedule_id)).toEqual([]);
    const views = Object.fromEntries((await svcOp.list()).schedules.map((v) => [v.schedule_id, v]));
    expect(views[skip.schedule_id]).toMatchObject({ fired: 1, missed: 9 });
    expect(views[catchUp.schedule_id]).toMatchObject({ fired: 3, missed: 7 });
    expect(views[paused.schedule_id]).toMatchObject({ status: 'PAUSED', next_fires: [] });
    const missed = await events(
      t.db,
      `type = 'ScheduleFiresMissed' AND data->>'schedule_id' = $1`,
      [skip.schedule_id],
    );
    expect(missed).toHaveLength(1);
    expect(missed[0].data).toMatchObject({ count: 9 });
    // resumed: goes on from now, the paused minutes are not fired
    const resumed = await svcOp.resume(paused.schedule_id, actorOf(op));
    expect(Date.parse(resumed.next_fires[0])).toBeGreaterThan(Date.parse(resumed.handled_through));
    await clockAt(await minuteFromNow(1));
    await fireDueSchedules(svc.db, scheduler);
    expect(await scheduledActions(paused.schedule_id)).toHaveLength(1);
    // conflicts: resume an active one, pause a deleted one
    await expect(svcOp.resume(skip.schedule_id, actorOf(op))).rejects.toThrow(/is ACTIVE/);
    for (const v of [skip, catchUp, paused]) await svcOp.delete(v.schedule_id, actorOf(op));
    await expect(svcOp.pause(skip.schedule_id, actorOf(op))).rejects.toThrow(/is DELETED/);
    await expect(svcOp.get('no-such-schedule')).rejects.toThrow(/not found/);
    await clockAt(await minuteFromNow(3));
    expect(await fireDueSchedules(svc.db, scheduler, { alwaysLock: true })).toMatchObject({
      fired: 0,
      missed: 0,
    });
  });
});
