import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { acquireLease } from '../src/lease/lease.sql.js';
import { recordAndClaim } from '../src/worker/worker.sql.js';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { enqueue, events } from './support/queries.js';
import { createLoginRole, liveAndFolded, LoginRole } from './support/roles.js';

/**
 * Issue 12, tried as an attacker with database credentials: every bypass is
 * attempted as a non-superuser LOGIN role granted aol_operator (and as the
 * service role, an auditor and an admin). Each is refused, or recorded with
 * the true actor; after every test the read models equal a rebuild from the log.
 */
describe('trust: no door around the log for an aol_operator login role', () => {
  let t: TestDb;
  let op: LoginRole;
  let svc: LoginRole;
  let auditor: LoginRole;
  let admin: LoginRole;
  const last = async () => (await events(t.db, 'true')).at(-1)!;
  const count = async () =>
    (await t.db.query('SELECT count(*)::int AS n FROM aol_events')).rows[0].n;

  beforeAll(async () => {
    t = await createTestDb('security');
    op = await createLoginRole(t, 'op', ['aol_operator']);
    svc = await createLoginRole(t, 'svc', ['aol_service']);
    auditor = await createLoginRole(t, 'aud', ['aol_auditor']);
    admin = await createLoginRole(t, 'adm', ['aol_admin']);
  });
  afterEach(async () => {
    const { live, folded } = await liveAndFolded(t.db);
    expect(live).toEqual(folded);
  });
  afterAll(async () => {
    for (const r of [op, svc, auditor, admin]) await r.db.close();
    await t.db.close();
  });

  it('the bypass from the issue: SET LOCAL aol.projecting = on still records the change, with its NOTIFY', async () => {
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const notes: string[] = [];
    listener.on('notification', (n) => notes.push(n.payload ?? ''));
    await listener.query('LISTEN aol_events');
    try {
      await op.db.tx(async (c) => {
        await c.query(`SET LOCAL aol.projecting = 'on'`);
        await c.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
      });
      const e = await last();
      expect(e).toMatchObject({
        type: 'ProofModeDisabled',
        metadata: { actor: op.name, via: 'sql' },
      });
      await waitFor(() => notes.some((n) => JSON.parse(n).seq === e.seq), 10000, 'the NOTIFY');
      await op.db.tx(async (c) => {
        await c.query(`SET LOCAL aol.projecting = 'on'`);
        await c.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
      });
      expect(await last()).toMatchObject({ type: 'ControlPaused', metadata: { actor: op.name } });
    } finally {
      await listener.end();
    }
  });

  it('no other aol.* setting chooses the actor or the door; aol.reason is only the reason', async () => {
    await op.db.tx(async (c) => {
      for (const s of ['aol.actor', 'aol.via', 'aol.user', 'aol.projecting'])
        await c.query(`SELECT set_config($1, 'ann', true)`, [s]);
      await c.query(`SET LOCAL aol.reason = 'drill'`);
      await c.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
    });
    expect((await last()).metadata).toEqual({ actor: op.name, via: 'sql', reason: 'drill' });
  });

  it('aol_append with a chosen actor is recorded as the session user; worker and reserved events are refused', async () => {
    await op.db.query(
      `SELECT aol_append('control', NULL, 'ControlPaused', '{}', '{"actor":"ann","via":"api"}')`,
    );
    expect((await last()).metadata).toEqual({ actor: op.name, via: 'sql', label: 'ann' });
    await op.db.query(
      `SELECT * FROM aol_append_batch('[{"stream":"control","type":"ControlResumed","data":{},"metadata":{"actor":"bob","via":"worker"}}]')`,
    );
    expect((await last()).metadata).toEqual({ actor: op.name, via: 'sql', label: 'bob' });
    const before = await count();
    for (const [stream, type] of [
      ['lease', 'LeaseAcquired'],
      ['tick', 'TickRecorded'],
      ['action:999', 'ActionSucceeded'],
      ['control', 'ControlAcknowledged'],
      ['control', 'ProofModeDisableApproved'],
      ['control', 'ProductionModeCleared'],
      ['control', 'TestClockSet'],
    ])
      await expect(
        op.db.query(`SELECT aol_append($1, NULL, $2, '{}', '{"actor":"ann"}')`, [stream, type]),
      ).rejects.toThrow(/may not append|written only by its own function/);
    await expect(
      op.db.query(
        `SELECT aol_append_raw(ARRAY['control'], NULL, ARRAY['ControlPaused'], NULL, NULL)`,
      ),
    ).rejects.toThrow(/permission denied/);
    expect(await count()).toBe(before);
  });

  it('the log cannot be written but by the append: INSERT, UPDATE, DELETE, TRUNCATE, DISABLE TRIGGER', async () => {
    const before = await count();
    const tries = [
      `INSERT INTO aol_events SELECT seq + 1000, stream, stream_version + 1000, 'ProofModeDisabled', data, '{"actor":"bob","via":"api"}', occurred_at, hash, hash FROM aol_events ORDER BY seq DESC LIMIT 1`,
      `UPDATE aol_events SET metadata = '{"actor":"mallory"}' WHERE seq = 1`,
      `DELETE FROM aol_events WHERE seq = (SELECT max(seq) FROM aol_events)`,
      `TRUNCATE aol_events`,
      `ALTER TABLE aol_events DISABLE TRIGGER aol_events_no_update`,
      `ALTER TABLE aol_events DISABLE TRIGGER ALL`,
      `ALTER TABLE aol_control_flags DISABLE TRIGGER aol_control_flags_runbook`,
    ];
    for (const role of [op, svc, auditor, admin])
      for (const sql of tries)
        await expect(role.db.query(sql)).rejects.toThrow(/permission denied|must be owner/);
    // not even a superuser's stray INSERT (disabling triggers is what the signed checkpoints catch)
    await expect(t.db.query(tries[0])).rejects.toThrow(/append-only: INSERT refused/);
    expect(await count()).toBe(before);
  });

  it('guard functions cannot be replaced, the owner role cannot be assumed, read models cannot be written around the triggers', async () => {
    const tries = [
      `CREATE OR REPLACE FUNCTION aol_take_append_lock() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'`,
      `CREATE OR REPLACE FUNCTION aol_read_model_guard() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'`,
      `CREATE OR REPLACE FUNCTION aol_append_many(text[], integer[], text[], jsonb[], jsonb[]) RETURNS SETOF aol_events LANGUAGE sql AS 'SELECT * FROM aol_events LIMIT 0'`,
      `CREATE FUNCTION aol_now(x int) RETURNS timestamptz LANGUAGE sql AS 'SELECT now()'`,
      `SET ROLE aol_owner`,
      `ALTER TABLE aol_control_flags OWNER TO aol_operator`,
      `DROP TRIGGER aol_control_flags_runbook ON aol_control_flags`,
      `INSERT INTO aol_control_flags VALUES (2, false, false, false, NULL, 0)`,
      `UPDATE aol_control_flags SET version = 99 WHERE id = 1`,
      `UPDATE aol_tick_ledger SET notes = 'x'`,
      `DELETE FROM aol_execution_logs`,
      `TRUNCATE aol_actions`,
      `UPDATE aol_actions SET payload = '{}'`,
      `UPDATE aol_lease SET expires_at_utc = now() + interval '1 year'`,
      `UPDATE aol_clock SET offset_seconds = -100000000`,
      `UPDATE aol_deployment SET production = false`,
      `DELETE FROM aol_proof_requests`,
      `SELECT aol_rebuild()`,
      `SELECT aol_lease_force_release('{"actor":"ann","via":"api"}')`,
      `SELECT * FROM aol_record_and_claim('x:1', 1, '[]', 10, false)`,
      `SELECT * FROM aol_claim_events('x:1', 1, 10, false)`,
      `SELECT * FROM aol_outcome_events(1, '[]')`,
    ];
    for (const sql of tries)
      await expect(op.db.query(sql)).rejects.toThrow(/permission denied|must be owner|refused/);
    // the service role writes only through the functions either
    for (const sql of tries.slice(7, 17))
      await expect(svc.db.query(sql)).rejects.toThrow(/permission denied|must be owner|refused/);
  });

  it("the triggers' condition is the builtin comparison with aol_owner: no function a role could replace, none parsed per statement", async () => {
    const { rows } = await t.db.query<{ tgname: string; def: string; calls: boolean }>(
      `SELECT tgname, pg_get_triggerdef(oid) AS def, tgqual LIKE '%FUNCEXPR%' AS calls
         FROM pg_trigger WHERE NOT tgisinternal AND tgqual IS NOT NULL AND tgrelid::regclass::text LIKE 'aol\\_%'`,
    );
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      expect([r.tgname, r.calls]).toEqual([r.tgname, false]);
      expect([r.tgname, r.def]).toEqual([
        r.tgname,
        expect.stringContaining(`WHEN ((CURRENT_USER <> 'aol_owner'::name))`),
      ]);
    }
  });

  it('the runbook statements work verbatim for aol_operator and land with the login role as actor', async () => {
    await t.db.query('UPDATE aol_control_flags SET paused = false, killed = false WHERE id = 1');
    const id = await enqueue(t.db, 'NOOP', {}, 'sec-dlq');
    const { epoch } = await acquireLease(t.db, 'w:1', 30);
    expect((await recordAndClaim(t.db, 'w:1', epoch, [], 1, true)).claimed).toMatchObject([{ id }]);
    const dlq = { id, type: 'ActionDeadLettered', data: { attempt: 1, error: 'x' } };
    expect((await recordAndClaim(t.db, 'w:1', epoch, [dlq], 0, false)).written.get(id)).toBe('ok');
    const from = (await last()).seq;
    for (const sql of [
      'UPDATE aol_control_flags SET paused = true WHERE id = 1;',
      'UPDATE aol_control_flags SET paused = false WHERE id = 1;',
      'UPDATE aol_control_flags SET killed = true WHERE id = 1;',
      'UPDATE aol_control_flags SET proof_mode = true WHERE id = 1;',
      'UPDATE aol_control_flags SET proof_mode = false WHERE id = 1;',
      'DELETE FROM aol_lease;',
      "UPDATE aol_actions SET status = 'CANCELLED' WHERE status = 'DLQ';",
    ])
      await op.db.query(sql);
    const written = await events(t.db, 'seq > $1', [from]);
    expect(written.map((e) => e.type)).toEqual([
      'ControlPaused',
      'ControlResumed',
      'ControlKilled',
      'ProofModeEnabled',
      'ProofModeDisabled',
      'LeaseForceReleased',
      'ActionCancelled',
    ]);
    for (const e of written) expect(e.metadata).toMatchObject({ actor: op.name, via: 'sql' });
    await t.db.query('UPDATE aol_control_flags SET killed = false, proof_mode = true WHERE id = 1');
  });

  it("the service role's worker write after its lease is lost commits nothing but FencedWriteRejected, as the worker", async () => {
    const id = await enqueue(t.db, 'NOOP', {}, 'sec-fenced');
    const next = await enqueue(t.db, 'NOOP', {}, 'sec-fenced-next');
    const { epoch } = await acquireLease(svc.db, 'w:svc', 30);
    const [a] = (await recordAndClaim(svc.db, 'w:svc', epoch, [], 1, false)).claimed;
    expect(a.id).toBe(id);
    // the lease is lost: force-released by an operator, taken by another worker
    await op.db.query('DELETE FROM aol_lease;');
    expect((await acquireLease(svc.db, 'w:other', 30)).acquired).toBe(true);
    const from = (await last()).seq;
    const ok = { id, type: 'ActionSucceeded', data: { attempt: 1, message: 'late' } };
    expect(await recordAndClaim(svc.db, 'w:svc', epoch, [ok], 5, false)).toEqual({
      fenced: true,
      written: new Map([[id, 'fenced']]),
      claimed: [],
    });
    const written = await events(t.db, 'seq > $1', [from]);
    expect(written.map((e) => [e.type, e.data.attempted, e.data.action_id ?? null])).toEqual([
      ['FencedWriteRejected', 'outcomes', null],
      ['FencedWriteRejected', ok.type, id],
    ]);
    for (const e of written) expect(e.metadata).toEqual({ actor: 'w:svc', via: 'worker' });
    const { rows } = await t.db.query('SELECT id, status FROM aol_actions WHERE id = ANY ($1)', [
      [id, next],
    ]);
    expect(new Map(rows.map((r) => [Number(r.id), r.status]))).toEqual(
      new Map([
        [id, 'RUNNING'],
        [next, 'PENDING'],
      ]),
    );
    await t.db.query('DELETE FROM aol_lease');
  });

  it('the service role appends with the actor it authenticated (a token name), an auditor only reads', async () => {
    await svc.db.query(
      `SELECT aol_append('control', NULL, 'ControlPaused', '{}', '{"actor":"alice","via":"api"}')`,
    );
    expect((await last()).metadata).toEqual({ actor: 'alice', via: 'api' });
    await svc.db.query(
      `SELECT aol_append('control', NULL, 'ControlResumed', '{}', '{"actor":"alice","via":"api"}')`,
    );
    await expect(
      svc.db.query(
        `SELECT aol_append('control', NULL, 'ProductionModeCleared', '{}', '{"actor":"alice","via":"api"}')`,
      ),
    ).rejects.toThrow(/written only by its own function/);
    expect(
      (await auditor.db.query('SELECT count(*)::int AS n FROM aol_events')).rows[0].n,
    ).toBeGreaterThan(0);
    await auditor.db.query('SELECT aol_health_inputs()');
    await expect(
      auditor.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1'),
    ).rejects.toThrow(/permission denied/);
    await expect(
      auditor.db.query(`SELECT aol_append('control', NULL, 'ControlPaused', '{}', '{}')`),
    ).rejects.toThrow(/permission denied/);
  });

  it('the test clock: an admin may move it outside production, as an event; never in production, where it is ignored', async () => {
    await admin.db.query('UPDATE aol_clock SET offset_seconds = 60');
    expect(await last()).toMatchObject({
      type: 'TestClockSet',
      data: { offset_seconds: 60, previous_offset_seconds: 0 },
      metadata: { actor: admin.name, via: 'sql' },
    });
    await svc.db.query(`SELECT aol_mark_production('api')`);
    const marked = (await events(t.db, `type IN ('TestClockSet', 'ProductionModeEntered')`)).slice(
      -2,
    );
    expect(marked.map((e) => [e.type, e.data])).toEqual([
      ['TestClockSet', { offset_seconds: 0, previous_offset_seconds: 60 }],
      ['ProductionModeEntered', {}],
    ]);
    expect(marked[1].metadata).toMatchObject({ actor: svc.name, via: 'api' });
    for (const db of [admin.db, t.db])
      await expect(db.query('UPDATE aol_clock SET offset_seconds = -100000000')).rejects.toThrow(
        /disabled in production/,
      );
    // clearing production: an admin only, as an event
    await expect(op.db.query(`SELECT aol_clear_production('x', 'sql')`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(svc.db.query(`SELECT aol_clear_production('x', 'sql')`)).rejects.toThrow(
      /only an admin/,
    );
    await admin.db.query(`SELECT aol_clear_production('back to staging', 'sql')`);
    expect(await last()).toMatchObject({
      type: 'ProductionModeCleared',
      metadata: { actor: admin.name, via: 'sql', reason: 'back to staging' },
    });
  });
});
