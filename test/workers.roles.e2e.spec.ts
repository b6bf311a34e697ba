import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startWorker } from './support/processes.js';
import { createLoginRole, LoginRole } from './support/roles.js';

const BEAT = `SELECT aol_worker_beat($1, 'h', 1, 'standby', NULL, 30, NULL)`;

/**
 * aol_workers (migration 0016) with the rights each role's job needs: the
 * worker (aol_service) announces, refreshes and leaves through the two
 * functions only; operators, admins and auditors read it (`aol workers`,
 * `aol health`) and cannot write or forge a row by any door; nobody but the
 * notifier's role appends to the `alert` stream.
 */
describe('worker presence and alerts under the database roles', () => {
  let t: TestDb;
  let svc: LoginRole;
  let op: LoginRole;
  let adm: LoginRole;
  let aud: LoginRole;

  beforeAll(async () => {
    t = await createTestDb('workers_roles');
    svc = await createLoginRole(t, 'wsvc', ['aol_service']);
    op = await createLoginRole(t, 'wop', ['aol_operator']);
    adm = await createLoginRole(t, 'wadm', ['aol_admin']);
    aud = await createLoginRole(t, 'waud', ['aol_auditor']);
  });
  afterAll(async () => {
    for (const r of [svc, op, adm, aud]) await r.db.close();
    await t.db.close();
  });

  const row = async (id: string) =>
    (await t.db.query('SELECT * FROM aol_workers WHERE id = $1', [id])).rows[0] as
      Record<string, unknown> | undefined;

  it('the worker role announces, refreshes and leaves its row through the functions', async () => {
    await svc.db.query(BEAT, ['svc-host:1']);
    const first = await row('svc-host:1');
    expect(first).toMatchObject({ state: 'standby', host: 'h' });
    await svc.db.query(
      `SELECT aol_worker_beat('svc-host:1', 'h', 1, 'active', 7, 30, $1::timestamptz)`,
      [first!.started_at_utc],
    );
    const second = await row('svc-host:1');
    expect(second).toMatchObject({ state: 'active', epoch: 7 });
    expect((second!.seen_at_utc as Date) >= (first!.seen_at_utc as Date)).toBe(true);
    await svc.db.query(`SELECT aol_worker_leave('svc-host:1')`);
    expect(await row('svc-host:1')).toMatchObject({ state: 'left', epoch: null });
    // Even the worker's role writes only through the functions.
    await expect(
      svc.db.query(`UPDATE aol_workers SET seen_at_utc = now() + interval '1 day'`),
    ).rejects.toThrow(/permission denied/);
    await expect(
      svc.db.query(
        `INSERT INTO aol_workers VALUES ('x:1', 'x', 1, 'active', 1, 30, now(), now(), NULL)`,
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it('a worker process logged in as the service role keeps its row: active, refreshed, left', async () => {
    const w = startWorker(svc.url);
    try {
      await waitFor(
        async () => (await row(w.id()))?.state === 'active',
        20000,
        'the service-role worker active in aol_workers',
      );
      const seen = (await row(w.id()))!.seen_at_utc as Date;
      await waitFor(
        async () => ((await row(w.id()))!.seen_at_utc as Date) > seen,
        20000,
        'its row refreshed',
      );
    } finally {
      expect(await w.stop('SIGTERM')).toBe(0);
    }
    expect(await row(w.id())).toMatchObject({ state: 'left' });
  });

  it('operators, admins and auditors read presence but cannot forge, refresh or remove a row', async () => {
    await t.db.query(BEAT, ['real:1']);
    const before = await row('real:1');
    for (const r of [op, adm, aud]) {
      const ids = (await r.db.query<{ id: string }>('SELECT id FROM aol_worker_presence()')).rows;
      expect(ids.map((x) => x.id)).toContain('real:1');
      expect((await r.db.query('SELECT id FROM aol_workers')).rowCount).toBeGreaterThan(0);
      await expect(r.db.query(BEAT, ['forged:1'])).rejects.toThrow(/permission denied/);
      await expect(r.db.query(BEAT, ['real:1'])).rejects.toThrow(/permission denied/);
      await expect(r.db.query(`SELECT aol_worker_leave('real:1')`)).rejects.toThrow(
        /permission denied/,
      );
      await expect(
        r.db.query(`UPDATE aol_workers SET seen_at_utc = now() WHERE id = 'real:1'`),
      ).rejects.toThrow(/permission denied/);
      await expect(
        r.db.query(
          `INSERT INTO aol_workers VALUES ('forged:2', 'x', 1, 'active', 1, 30, now(), now(), NULL)`,
        ),
      ).rejects.toThrow(/permission denied/);
      await expect(r.db.query(`DELETE FROM aol_workers`)).rejects.toThrow(/permission denied/);
      await expect(r.db.query(`TRUNCATE aol_workers`)).rejects.toThrow(/permission denied/);
    }
    expect(await row('forged:1')).toBeUndefined();
    expect(await row('forged:2')).toBeUndefined();
    expect(await row('real:1')).toEqual(before);
  });

  it('aol workers works for an operator login', async () => {
    const cli = await runCli(['workers', '--json'], { DATABASE_URL: op.url });
    expect(cli.code).toBe(0);
    const ids = (JSON.parse(cli.stdout) as { workers: { id: string }[] }).workers.map((w) => w.id);
    expect(ids).toContain('real:1');
  });

  it('the alert stream is accepted beside log and the others, and only the service appends to it', async () => {
    const alert = (type: string) =>
      JSON.stringify([
        {
          stream: 'alert',
          type,
          data: { alert: 'AolWorkerDown', incident_id: 'i-1', summary: 's', deliveries: {} },
          metadata: { actor: 'someone' },
        },
      ]);
    for (const r of [op, adm])
      await expect(
        r.db.query('SELECT aol_append_batch($1::jsonb)', [alert('AlertResolved')]),
      ).rejects.toThrow(/may not append AlertResolved/);
    await svc.db.query('SELECT aol_append_batch($1::jsonb)', [alert('AlertResolved')]);
    const streams = await t.db.query<{ ok: boolean }>(
      `SELECT pg_get_constraintdef(oid) ~ 'log' AND pg_get_constraintdef(oid) ~ 'alert' AS ok
         FROM pg_constraint WHERE conname = 'aol_events_stream_check'`,
    );
    expect(streams.rows[0].ok).toBe(true);
    await expect(
      t.db.query(`SELECT aol_append('nope', NULL, 'AlertFired', '{}', '{"actor":"x"}')`),
    ).rejects.toThrow(/aol_events_stream_check/);
    expect(
      (
        await t.db.query(
          `SELECT count(*)::int AS n FROM aol_events WHERE stream = 'alert' AND type = 'AlertResolved'`,
        )
      ).rows[0],
    ).toEqual({ n: 1 });
  });
});
