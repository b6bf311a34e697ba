import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { Proc, runCli, startApiProcess, startWorker, WorkerProc } from './support/processes.js';
import { SmtpReceiver, WebhookReceiver } from './support/receivers.js';
import { action, enqueue, events, ticks } from './support/queries.js';

describe('scoped, expiring pause (aol pause --type … --for …, POST /control/pause)', () => {
  let t: TestDb;
  let hook: WebhookReceiver;
  let smtp: SmtpReceiver;
  let worker: WorkerProc;
  let api: Proc & { url: string };
  const env = () => ({ DATABASE_URL: t.url });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;
  const get = async (path: string): Promise<Json> => (await fetch(`${api.url}${path}`)).json();
  const post = (path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const acked = (version: number) =>
    waitFor(
      async () =>
        (
          await events(
            t.db,
            `type = 'ControlAcknowledged' AND (data->>'control_version')::int >= $1`,
            [version],
          )
        ).length > 0,
      20000,
      `control version ${version} acknowledged`,
    );
  const version = async () =>
    (await t.db.query('SELECT version FROM aol_control_flags')).rows[0].version as number;

  beforeAll(async () => {
    t = await createTestDb('scoped_pause');
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    hook = await new WebhookReceiver().start();
    smtp = await new SmtpReceiver().start();
    worker = startWorker(t.url, { AOL_PROOF_MODE: 'false', SMTP_URL: smtp.url });
    api = await startApiProcess(t.url);
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.stop();
    await hook.stop();
    await smtp.stop();
    await t.db.close();
  });

  it('--type SEND_EMAIL --for 30m: emails wait, webhooks run; at the deadline (database clock) the pause ends by itself with its event', async () => {
    const r = await runCli(
      [
        'pause',
        '--type',
        'SEND_EMAIL',
        '--for',
        '30m',
        '--reason',
        'smtp outage',
        '--actor',
        'ann',
      ],
      env(),
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    const pauseId = /pause ([0-9a-f-]{36})/.exec(r.stdout)![1];
    const [started] = await events(t.db, `type = 'ScopedPauseStarted'`);
    expect(started).toMatchObject({
      stream: 'control',
      data: { pause_id: pauseId, action_types: ['SEND_EMAIL'] },
      // the CLI's actor is its login role; --actor is only a label beside it
      metadata: { actor: new URL(t.url).username, label: 'ann', via: 'cli', reason: 'smtp outage' },
    });
    const until = new Date(started.data.until as string).getTime();
    expect(until - started.occurred_at.getTime()).toBeCloseTo(30 * 60 * 1000, -3);
    await acked(await version()); // the worker acknowledges it like the global pause

    const mail = await enqueue(
      t.db,
      'SEND_EMAIL',
      { to: 'a@example.com', subject: 's', text: 't' },
      'sp-mail',
    );
    const hookId = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/sp` }, 'sp-hook');
    await waitFor(
      async () => (await action(t.db, hookId)).status === 'SUCCESS',
      20000,
      'webhook runs',
    );
    // ticks counted as ledger rows
    const afterHook = (await ticks(t.db)).ticks;
    await waitFor(
      async () => (await ticks(t.db)).ticks >= afterHook + 3,
      20000,
      'three more ticks',
    );
    expect((await action(t.db, mail)).status).toBe('PENDING');
    expect(smtp.mails).toHaveLength(0);

    // visible in GET /control, /health/aol and aol health; the global pause is untouched
    const control = await get('/control');
    expect(control).toMatchObject({
      paused: false,
      scoped_pauses: [
        { pause_id: pauseId, action_types: ['SEND_EMAIL'], started_by: new URL(t.url).username },
      ],
    });
    const health = await get('/health/aol');
    expect(health.scoped_pauses).toEqual(control.scoped_pauses);
    expect(health.flags.paused).toBe(false);
    const cli = await runCli(['health'], env());
    expect(cli.stdout).toContain(`scoped pause ${pauseId}: SEND_EMAIL until ${started.data.until}`);

    // 30 minutes pass on the database clock
    await t.db.query('UPDATE aol_clock SET offset_seconds = 1801');
    try {
      await waitFor(
        async () => (await action(t.db, mail)).status === 'SUCCESS',
        20000,
        'email sent after the deadline',
      );
      const [ended] = await events(t.db, `type = 'ScopedPauseEnded'`);
      expect(ended).toMatchObject({
        data: { pause_id: pauseId, expired: true },
        metadata: { actor: worker.id(), via: 'worker', reason: 'scoped pause deadline passed' },
      });
      const [mailStart] = await events(t.db, `stream = $1 AND type = 'ActionStarted'`, [
        `action:${mail}`,
      ]);
      expect(mailStart.seq).toBeGreaterThan(ended.seq);
      expect(smtp.mails).toHaveLength(1);
      await acked(await version());
      expect((await get('/control')).scoped_pauses).toEqual([]);
      const rows = (await t.db.query('SELECT expired, ended_by FROM aol_scoped_pauses')).rows;
      expect(rows).toEqual([{ expired: true, ended_by: worker.id() }]);
    } finally {
      await t.db.query('UPDATE aol_clock SET offset_seconds = 0');
    }
  });

  it('REST: a pause of every type until a time, resumed early by pause_id; bad input is a 400 naming the field, nothing recorded', async () => {
    const controlEvents = async () => (await events(t.db, `stream = 'control'`)).length;
    const before = await controlEvents();
    const bad = [
      { reason: 'x', action_types: ['NOPE'] },
      { reason: 'x', action_types: [] },
      { reason: 'x', until: 'tomorrow' },
      { reason: 'x', until: '2020-01-01T00:00:00Z' },
      { reason: '', action_types: ['SEND_EMAIL'] },
    ];
    const messages: string[] = [];
    for (const body of bad) {
      const res = await post('/control/pause', body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      messages.push(JSON.stringify(((await res.json()) as Json).message));
    }
    expect(messages[0]).toMatch(/action_types must each be one of/);
    expect(messages[2]).toMatch(/until must be an ISO 8601 date-time/);
    expect(messages[3]).toMatch(/until must be in the future/);
    expect((await post('/control/resume', { reason: 'x', pause_id: 'nope' })).status).toBe(400);
    expect(
      (
        await post('/control/resume', {
          reason: 'x',
          pause_id: '00000000-0000-0000-0000-000000000000',
        })
      ).status,
    ).toBe(404);
    const cliBad = await runCli(
      ['pause', '--type', 'SEND_EMAIL', '--for', 'soon', '--reason', 'x'],
      env(),
    );
    expect([cliBad.code, cliBad.stderr]).toEqual([
      64,
      expect.stringContaining('--for must be a duration'),
    ]);
    const cliBadType = await runCli(['pause', '--type', 'FAX', '--reason', 'x'], env());
    expect(cliBadType.code).toBe(64);
    expect(await controlEvents()).toBe(before); // nothing half-written

    const until = new Date(Date.now() + 3600_000).toISOString();
    const res = await post('/control/pause', { reason: 'freeze', until });
    expect(res.status).toBe(200);
    const body: Json = await res.json();
    expect(body).toMatchObject({
      paused: false,
      changed: true,
      scoped_pauses: [{ action_types: null, until }],
    });
    await acked(body.version);
    const id = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/frozen` }, 'sp-frozen');
    const mark = (await ticks(t.db)).ticks;
    await waitFor(async () => (await ticks(t.db)).ticks >= mark + 3, 20000, 'ticks while frozen');
    expect((await action(t.db, id)).status).toBe('PENDING');
    const resumed = await post('/control/resume', { reason: 'thaw', pause_id: body.pause_id });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ changed: true, scoped_pauses: [] });
    await waitFor(
      async () => (await action(t.db, id)).status === 'SUCCESS',
      20000,
      'runs after resume',
    );
    const [ended] = await events(t.db, `type = 'ScopedPauseEnded' AND data->>'pause_id' = $1`, [
      body.pause_id,
    ]);
    expect(ended.data.expired).toBe(false);
    const again = await post('/control/resume', { reason: 'thaw', pause_id: body.pause_id });
    expect(await again.json()).toMatchObject({ changed: false });

    // the read model is exactly what the log rebuilds, and is not writable directly
    const snapshot = () => t.db.query('SELECT * FROM aol_scoped_pauses ORDER BY pause_id');
    const live = (await snapshot()).rows;
    expect(live).toHaveLength(2);
    await t.db.query('SELECT aol_rebuild()');
    expect((await snapshot()).rows).toEqual(live);
    await expect(t.db.query('DELETE FROM aol_scoped_pauses')).rejects.toThrow(/read model/);
  });
});
