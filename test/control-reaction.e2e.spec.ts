import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startApiProcess, startWorker, WorkerProc, Proc } from './support/processes.js';
import { WebhookReceiver } from './support/receivers.js';
import { action, enqueue, events, lease } from './support/queries.js';

type Json = Record<string, unknown>;

describe('the worker reacts to control changes through NOTIFY and acknowledges them', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  let hook: WebhookReceiver;
  let w: WorkerProc | undefined;
  const acked = (version: number) =>
    waitFor(
      async () =>
        (
          await events(
            t.db,
            `type = 'ControlAcknowledged' AND (data->>'control_version')::int = $1`,
            [version],
          )
        )[0],
      10000,
      `ack of ${version}`,
    );
  const control = async () => (await fetch(`${api.url}/control`).then((r) => r.json())) as Json;

  beforeAll(async () => {
    t = await createTestDb('reaction');
    hook = await new WebhookReceiver().start();
    api = await startApiProcess(t.url);
  });
  afterEach(async () => {
    await w?.stop('SIGKILL');
    w = undefined;
    await t.db.query('DELETE FROM aol_lease');
  });
  afterAll(async () => {
    await api.stop();
    await hook.stop();
    await t.db.close();
  });

  it('pause (REST), resume (CLI), proof off and on (runbook SQL): each applied and acknowledged with its version and delay', async () => {
    w = startWorker(t.url, { AOL_TICK_INTERVAL_SECONDS: '30' });
    await waitFor(async () => (await lease(t.db))?.owner === w!.id(), 20000, 'worker active');
    const doors: [string, () => Promise<unknown>][] = [
      [
        'rest',
        () =>
          fetch(`${api.url}/control/pause`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"reason":"r"}',
          }),
      ],
      ['cli', () => runCli(['resume', '--reason', 'c'], { DATABASE_URL: t.url })],
      ['sql', () => t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1')],
      ['sql', () => t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1')],
    ];
    for (const [, change] of doors) {
      await change();
      const c = await control();
      const ack = await acked(c.version as number);
      expect(ack.data).toMatchObject({ worker: w.id(), epoch: (await lease(t.db))!.epoch });
      expect(ack.data.delay_ms).toEqual(expect.any(Number));
      expect(ack.data.delay_ms as number).toBeGreaterThanOrEqual(0);
      await waitFor(
        async () => (await control()).acknowledged === true,
        10000,
        'GET /control acknowledged',
      );
      expect((await control()).acknowledgment).toMatchObject({
        control_version: c.version,
        worker: w.id(),
      });
    }
  });

  it('a change made while no worker is active is acknowledged when one becomes active', async () => {
    await runCli(['pause', '--reason', 'nobody home'], { DATABASE_URL: t.url });
    expect((await control()).acknowledged).toBe(false);
    w = startWorker(t.url);
    await acked((await control()).version as number);
    await runCli(['resume', '--reason', 'back'], { DATABASE_URL: t.url });
    await acked((await control()).version as number);
  });

  it('a resume is acknowledged before the work it allows starts', async () => {
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    const id = await enqueue(t.db, 'NOOP', {}, 'resume-ack-1');
    w = startWorker(t.url, { AOL_TICK_INTERVAL_SECONDS: '0.2' });
    await acked((await control()).version as number);
    await t.db.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
    const resumed = (await control()).version as number;
    const ack = await acked(resumed);
    await waitFor(async () => (await action(t.db, id)).status === 'SUCCESS', 20000, 'action run');
    const [started] = await events(t.db, `type = 'ActionStarted' AND stream = $1`, [
      `action:${id}`,
    ]);
    expect(ack.seq).toBeLessThan(started.seq);
  });

  it('with the throughput settings (batched claims, concurrency) every action still goes through its own events, once', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push(await enqueue(t.db, 'NOOP', {}, `batch-${i}`));
    w = startWorker(t.url, {
      AOL_PROOF_MODE: 'false',
      AOL_TICK_INTERVAL_SECONDS: '0.2',
      AOL_MAX_ACTIONS_PER_TICK: '100',
      AOL_CLAIM_BATCH_SIZE: '5',
      AOL_WORKER_CONCURRENCY: '3',
    });
    const streams = ids.map((id) => `action:${id}`);
    await waitFor(
      async () =>
        (await events(t.db, `type = 'ActionSucceeded' AND stream = ANY($1)`, [streams])).length ===
        12,
      20000,
      'all 12 succeeded',
    );
    const started = await events(t.db, `type = 'ActionStarted' AND stream = ANY($1)`, [streams]);
    expect(started.map((e) => e.stream).sort()).toEqual([...streams].sort()); // once each
    // claimed 5 at a time: a claim's events are one append and share its occurred_at
    const claims = new Set(started.map((e) => e.occurred_at.toISOString()));
    expect(claims.size).toBe(3);
    const counts = await t.db.query(
      `SELECT (SELECT n FROM aol_queue_counts WHERE status = 'SUCCESS') AS counted,
              (SELECT count(*) FROM aol_actions WHERE status = 'SUCCESS') AS real`,
    );
    expect(Number(counts.rows[0].counted)).toBe(Number(counts.rows[0].real));
  });

  it('a killed LISTEN connection is re-opened and the worker catches up: no control event is missed', async () => {
    w = startWorker(t.url, { AOL_TICK_INTERVAL_SECONDS: '30' });
    await waitFor(async () => (await lease(t.db))?.owner === w!.id(), 20000, 'worker active');
    const killed = await t.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND application_name <> 'aol-api'`,
    );
    expect(killed.rowCount).toBeGreaterThanOrEqual(1);
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    await acked((await control()).version as number);
    await t.db.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
    await acked((await control()).version as number);
  });

  it('proof mode changes apply from the next action, never in the middle of one; AOL_PROOF_MODE=true forces it', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    hook.respond = (req) =>
      req.url === '/first' ? { status: 200, holdMs: 1000 } : { status: 200 };
    const first = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/first` }, 'pm-1');
    const second = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/second` }, 'pm-2');
    w = startWorker(t.url, { AOL_PROOF_MODE: 'false', AOL_MAX_ACTIONS_PER_TICK: '5' });
    await waitFor(() => hook.byKey('pm-1').length === 1, 20000, 'first in flight (real)');
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    await waitFor(
      async () => (await action(t.db, second)).status === 'SUCCESS',
      20000,
      'second done',
    );
    expect((await action(t.db, first)).status).toBe('SUCCESS');
    expect(hook.byKey('pm-2')).toHaveLength(0); // proof: not sent
    const starts = await events(t.db, `type = 'ActionStarted' AND stream IN ($1, $2)`, [
      `action:${first}`,
      `action:${second}`,
    ]);
    expect(starts.map((e) => e.data.proof_mode)).toEqual([false, true]);
    await w.stop('SIGTERM');
    // the environment forces proof mode even when the flag is off
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    const third = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/third` }, 'pm-3');
    w = startWorker(t.url, { AOL_PROOF_MODE: 'true' });
    await waitFor(
      async () => (await action(t.db, third)).status === 'SUCCESS',
      20000,
      'third done',
    );
    expect(hook.byKey('pm-3')).toHaveLength(0);
  });
});
