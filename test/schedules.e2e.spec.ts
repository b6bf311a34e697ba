import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { Proc, runCli, startApiProcess } from './support/processes.js';
import { events } from './support/queries.js';

type Api = Proc & { url: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Issue 16: a schedule every minute, fired by two API replicas at once, one of
 * them SIGKILLed in the middle and a new one started, enqueues exactly one
 * action per minute. Minutes pass on the database clock (aol_clock), not by
 * waiting.
 */
describe('recurring schedules across API replicas, a SIGKILL and a restart', () => {
  let t: TestDb;
  const apis: Api[] = [];
  const env = { AOL_SCHEDULER_INTERVAL_SECONDS: '0.2' };
  const post = (api: Api, path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** Move the database clock to 2 s past the next whole minute. */
  const nextMinute = async () => {
    await t.db.query(
      `UPDATE aol_clock SET offset_seconds = offset_seconds + extract(epoch FROM
         date_trunc('minute', aol_now()) + interval '62 seconds' - aol_now())::float8`,
    );
  };
  const fired = async (id: string) =>
    (
      await t.db.query<{ key: string; actor: string }>(
        `SELECT a.idempotency_key AS key, e.metadata->>'actor' AS actor
           FROM aol_actions a JOIN aol_events e ON e.stream = 'action:' || a.id AND e.type = 'ActionEnqueued'
          WHERE a.idempotency_key LIKE $1 ORDER BY a.id`,
        [`schedule:${id}:%`],
      )
    ).rows;

  beforeAll(async () => {
    t = await createTestDb('schedules_e2e');
    apis.push(await startApiProcess(t.url, env), await startApiProcess(t.url, env));
  });
  afterAll(async () => {
    for (const a of apis) await a.stop('SIGKILL');
    await t.db.close();
  });

  it('POST /schedules: bad cron, unknown zone, bad type or payload are 400 with field messages; nothing is written', async () => {
    const before = (await events(t.db)).length;
    const bad = async (body: unknown) => {
      const r = await post(apis[0], '/schedules', body);
      expect(r.status).toBe(400);
      return String(((await r.json()) as Json).message);
    };
    expect(
      await bad({
        cron: '61 * * * *',
        time_zone: 'Europe/Atlantis',
        action_type: 'HTTP_WEBHOOK',
        payload: {},
      }),
    ).toMatch(/cron: .*; time_zone: "Europe\/Atlantis" is not an IANA time zone.*; payload\.url/);
    expect(await bad({ cron: '* * * * *', action_type: 'FAX', payload: {} })).toMatch(
      /^action_type must be one of/,
    );
    expect(await bad({ cron: '* * * * *', action_type: 'NOOP', payload: [] })).toMatch(
      /payload must be a JSON object/,
    );
    expect(
      await bad({ cron: '* * * * *', action_type: 'NOOP', payload: {}, missed_fires: 'later' }),
    ).toMatch(/missed_fires must be one of skip, catch_up/);
    expect(await bad({ action_type: 'NOOP', payload: {} })).toMatch(/cron must be a string/);
    expect((await events(t.db)).length).toBe(before);
  });

  it('every minute for 6 database minutes, two replicas, one SIGKILLed after minute 3 and a new one started: one action per minute', async () => {
    const r = await post(apis[0], '/schedules', {
      cron: '* * * * *',
      action_type: 'NOOP',
      payload: { note: 'every minute' },
      reason: 'failover drill',
    });
    expect(r.status).toBe(201);
    const s: Json = await r.json();
    expect(s).toMatchObject({ status: 'ACTIVE', missed_fires: 'skip', time_zone: 'UTC' });
    expect(s.next_fires).toHaveLength(5);
    // the other replica serves it too
    const listed: Json = await (await fetch(`${apis[1].url}/schedules`)).json();
    expect(listed.schedules.map((x: Json) => x.schedule_id)).toEqual([s.schedule_id]);

    for (let minute = 1; minute <= 6; minute++) {
      if (minute === 4) {
        await apis[0].stop('SIGKILL'); // mid-run: one replica dies
        apis.push(await startApiProcess(t.url, env)); // and a new one starts
      }
      await nextMinute();
      await waitFor(
        async () => (await fired(s.schedule_id)).length >= minute,
        20000,
        `the firing of minute ${minute}`,
      );
      // several scheduler rounds of every live replica pass: still exactly one
      await new Promise((res) => setTimeout(res, 1000));
      expect(await fired(s.schedule_id)).toHaveLength(minute);
    }
    const rows = await fired(s.schedule_id);
    const times = rows.map((x) => Date.parse(x.key.split(':').slice(2).join(':')));
    expect(new Set(rows.map((x) => x.key)).size).toBe(6);
    expect(times.slice(1).map((x, i) => x - times[i])).toEqual(Array(5).fill(60_000));
    for (const x of rows) expect(x.actor).toMatch(/^scheduler /);
    const firedEvents = await events(t.db, `type = 'ScheduleFired'`);
    expect(firedEvents.map((e) => e.data.idempotency_key)).toEqual(rows.map((x) => x.key));
    // the log serves the stream like any other
    const page: Json = await (
      await fetch(`${apis[1].url}/events?stream=schedule&limit=100`)
    ).json();
    expect(page.events.map((e: Json) => e.type)).toEqual([
      'ScheduleCreated',
      ...Array(6).fill('ScheduleFired'),
    ]);
    const view: Json = await (await fetch(`${apis[1].url}/schedules/${s.schedule_id}`)).json();
    expect(view).toMatchObject({ fired: 6, missed: 0 });
    expect(Date.parse(view.next_fires[0])).toBe(times[5] + 60_000);
  });

  it('the OpenAPI document describes the schedule routes and the create body', async () => {
    const doc = (await (await fetch(`${apis[1].url}/docs-json`)).json()) as Json;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/schedules',
        '/schedules/{id}',
        '/schedules/{id}/pause',
        '/schedules/{id}/resume',
      ]),
    );
    expect(Object.keys(doc.paths['/schedules'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/schedules/{id}'])).toEqual(
      expect.arrayContaining(['get', 'delete']),
    );
    const body = doc.components.schemas.CreateScheduleDto;
    expect(body.required).toEqual(expect.arrayContaining(['cron', 'action_type', 'payload']));
    expect(body.properties.missed_fires.enum).toEqual(['skip', 'catch_up']);
  });

  it('with tokens: a viewer reads schedules but cannot change them; an operator can, as itself', async () => {
    const tokens = { viewer: 'viewer-token-0123456789', operator: 'operator-token-0123456789' };
    const secured = await startApiProcess(t.url, {
      AOL_API_TOKENS: `vera:viewer:${tokens.viewer},otto:operator:${tokens.operator}`,
      AOL_SCHEDULER_INTERVAL_SECONDS: '0',
    });
    apis.push(secured);
    const call = (method: string, path: string, token?: string, body?: unknown) =>
      fetch(`${secured.url}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const spec = { cron: '*/10 * * * *', action_type: 'NOOP', payload: {} };
    expect((await call('GET', '/schedules')).status).toBe(401);
    expect((await call('GET', '/schedules', tokens.viewer)).status).toBe(200);
    expect((await call('POST', '/schedules', tokens.viewer, spec)).status).toBe(403);
    const created = await call('POST', '/schedules', tokens.operator, { ...spec, reason: 'r' });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as Json).schedule_id;
    for (const [method, path] of [
      ['POST', `/schedules/${id}/pause`],
      ['POST', `/schedules/${id}/resume`],
      ['DELETE', `/schedules/${id}`],
    ])
      expect((await call(method, path, tokens.viewer, {})).status).toBe(403);
    expect((await call('GET', `/schedules/${id}`, tokens.viewer)).status).toBe(200);
    expect((await call('POST', `/schedules/${id}/pause`, tokens.operator, {})).status).toBe(200);
    expect((await call('POST', `/schedules/${id}/pause`, tokens.operator, {})).status).toBe(409);
    expect((await call('DELETE', `/schedules/${id}`, tokens.operator)).status).toBe(200);
    expect((await call('GET', `/schedules/nope`, tokens.viewer)).status).toBe(404);
    const mine = await events(t.db, `stream = 'schedule' AND data->>'schedule_id' = $1`, [id]);
    expect(mine.map((e) => [e.type, e.metadata.actor, e.metadata.via])).toEqual([
      ['ScheduleCreated', 'otto', 'api'],
      ['SchedulePaused', 'otto', 'api'],
      ['ScheduleDeleted', 'otto', 'api'],
    ]);
  });

  it('aol schedules add|list|pause|resume|delete; a bad cron or zone is a clear message and exit 64', async () => {
    const cli = (args: string[]) => runCli(['schedules', ...args], { DATABASE_URL: t.url });
    const bad = await cli(['add', '--cron', '0 25 * * *', '--type', 'NOOP', '--payload', '{}']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/aol: cron: .*0 25 \* \* \*.* is not a valid cron expression/);
    const zone = await cli([
      'add',
      '--cron',
      '0 9 * * *',
      '--tz',
      'Moon/Base',
      '--type',
      'NOOP',
      '--payload',
      '{}',
    ]);
    expect([zone.code, zone.stderr]).toEqual([
      64,
      expect.stringMatching(/time_zone: .*Moon\/Base.* is not an IANA time zone/),
    ]);
    const json = await cli([
      'add',
      '--cron',
      '0 9 * * 1-5',
      '--tz',
      'Europe/Berlin',
      '--type',
      'NOOP',
      '--payload',
      '{"note":"digest"}',
      '--missed',
      'catch_up',
      '--catch-up-max',
      '2',
      '--json',
    ]);
    expect([json.code, json.stderr]).toEqual([0, '']);
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({
      missed_fires: 'catch_up',
      catch_up_max: 2,
      time_zone: 'Europe/Berlin',
    });
    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(s.schedule_id);
    expect(list.stdout).toContain('Europe/Berlin');
    const pause = await cli(['pause', s.schedule_id, '--reason', 'holiday']);
    expect([pause.code, pause.stdout]).toEqual([
      0,
      expect.stringContaining('SchedulePaused recorded'),
    ]);
    expect((await cli(['pause', s.schedule_id])).code).toBe(3); // conflict: already paused
    expect((await cli(['resume', s.schedule_id])).code).toBe(0);
    expect((await cli(['delete', s.schedule_id])).code).toBe(0);
    const gone = await cli(['delete', '00000000-0000-4000-8000-000000000000']);
    expect([gone.code, gone.stderr]).toEqual([5, expect.stringMatching(/not found/)]);
    const paused = await events(t.db, `type = 'SchedulePaused'`);
    expect(paused.at(-1)!.metadata).toMatchObject({ via: 'cli', reason: 'holiday' });
  });
});
