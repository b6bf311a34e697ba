import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { ControlService } from '../src/control/control.service.js';
import { EventStore } from '../src/events/event-store.js';
import { replayTo } from '../src/history/snapshots.js';
import { appendAlone, createTestDb, TestDb, waitFor } from './support/db.js';

const READ_MODELS = ['aol_control_flags', 'aol_control_ack'];

async function snapshot(t: TestDb): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of READ_MODELS)
    out[table] = (await t.db.query(`SELECT * FROM ${table} ORDER BY 1`)).rows;
  return out;
}

describe('projections, rebuild, replay and the runbook SQL', () => {
  let t: TestDb;
  let control: ControlService;
  let store: EventStore;
  const actor = { name: 'alice', via: 'api' as const, requestId: 'req-1' };

  beforeAll(async () => {
    t = await createTestDb('projections');
    control = new ControlService(t.db, { production: false });
    store = new EventStore(t.db);
  });
  afterAll(() => t.db.close());

  it('the first migration leaves proof mode on, as event 1 of the log', async () => {
    const c = await control.get();
    expect(c).toMatchObject({ paused: false, killed: false, proof_mode: true, version: 1 });
    const [e] = await store.read({ limit: 1 });
    expect(e).toMatchObject({ seq: 1, type: 'ProofModeEnabled', metadata: { via: 'sql' } });
  });

  it('a command records actor, via, reason and request id, and a no-op records nothing', async () => {
    const r = await control.change('pause', 'deploy freeze', actor);
    expect(r).toMatchObject({ changed: true, paused: true, seq: 2, version: 2 });
    const [e] = await store.read({ after: 1 });
    expect(e.metadata).toEqual({
      actor: 'alice',
      via: 'api',
      reason: 'deploy freeze',
      request_id: 'req-1',
    });
    const again = await control.change('pause', 'again', actor);
    expect(again).toMatchObject({ changed: false, seq: null, message: 'already paused' });
    expect(await store.headSeq()).toBe(2);
  });

  it.each([
    [
      'UPDATE aol_control_flags SET paused = false WHERE id = 1',
      'ControlResumed',
      { paused: false },
    ],
    ['UPDATE aol_control_flags SET paused = true WHERE id = 1', 'ControlPaused', { paused: true }],
    ['UPDATE aol_control_flags SET killed = true WHERE id = 1', 'ControlKilled', { killed: true }],
    [
      'UPDATE aol_control_flags SET proof_mode = false WHERE id = 1',
      'ProofModeDisabled',
      { proof_mode: false },
    ],
    [
      'UPDATE aol_control_flags SET proof_mode = true WHERE id = 1',
      'ProofModeEnabled',
      { proof_mode: true },
    ],
  ])(
    'runbook SQL "%s" yields one %s event via sql, a NOTIFY, and the projected row',
    async (sql, type, flags) => {
      const listener = new pg.Client({ connectionString: t.url });
      await listener.connect();
      const notes: string[] = [];
      listener.on('notification', (n) => notes.push(n.payload ?? ''));
      await listener.query('LISTEN aol_events');
      const before = await store.headSeq();
      const psql = new pg.Client({ connectionString: t.url });
      await psql.connect();
      await psql.query(sql);
      await psql.end();
      const events = await store.read({ after: before });
      expect(events).toHaveLength(1);
      const { rows } = await t.db.query<{ u: string }>('SELECT session_user AS u');
      expect(events[0]).toMatchObject({
        type,
        stream: 'control',
        metadata: { via: 'sql', actor: rows[0].u },
      });
      await waitFor(() => notes.length === 1, 10000, 'NOTIFY');
      expect(JSON.parse(notes[0])).toEqual({
        stream: 'control',
        seq: events[0].seq,
        type,
        version: events[0].stream_version,
      });
      await listener.end();
      const row = (await t.db.query('SELECT * FROM aol_control_flags')).rows[0];
      expect(row).toMatchObject({ ...flags, version: events[0].stream_version });
      expect(new Date(row.updated_at_utc).toISOString()).toBe(events[0].occurred_at);
    },
  );

  it('a runbook UPDATE that flips no flag records nothing', async () => {
    const before = await store.headSeq();
    await t.db.query('UPDATE aol_control_flags SET paused = paused, killed = killed WHERE id = 1');
    expect(await store.headSeq()).toBe(before);
  });

  it('the runbook session can give a reason through aol.reason', async () => {
    await t.db.tx(async (c) => {
      await c.query(`SELECT set_config('aol.reason', 'incident 42', true)`);
      await c.query('UPDATE aol_control_flags SET killed = false WHERE id = 1');
    });
    const [e] = await store.read({ after: (await store.headSeq()) - 1 });
    expect(e).toMatchObject({
      type: 'ControlRevived',
      metadata: { reason: 'incident 42', via: 'sql' },
    });
  });

  it('direct writes that are not runbook commands are refused and write nothing', async () => {
    const before = await store.headSeq();
    await expect(
      t.db.query('UPDATE aol_control_flags SET version = 99 WHERE id = 1'),
    ).rejects.toThrow(/only paused, killed and proof_mode/);
    await expect(t.db.query('DELETE FROM aol_control_flags')).rejects.toThrow(/exactly one row/);
    await expect(t.db.query('UPDATE aol_control_ack SET control_version = 5')).rejects.toThrow(
      /read model/,
    );
    // the per-event read models are guarded per statement, TRUNCATE included
    for (const sql of [
      `INSERT INTO aol_execution_logs VALUES (999999, 1, now(), 'INFO', 'forged', NULL, NULL)`,
      'DELETE FROM aol_execution_logs',
      'TRUNCATE aol_execution_logs',
      `INSERT INTO aol_tick_ledger VALUES (999999, now(), now(), 'SUCCESS', 0, 0, 'forged', 'w', 1)`,
      'UPDATE aol_tick_ledger SET notes = notes',
      'TRUNCATE aol_tick_ledger',
    ])
      await expect(t.db.query(sql)).rejects.toThrow(/is a read model projected from aol_events/);
    expect(await store.headSeq()).toBe(before);
  });

  it('rebuild from the log equals the live tables row for row', async () => {
    await control.change('kill', 'stop', actor);
    await appendAlone(t.db, [
      {
        stream: 'control',
        event: {
          type: 'ControlAcknowledged',
          data: { control_version: 3, worker: 'h:1', epoch: 1, delay_ms: 1.5 },
        },
        metadata: { actor: 'h:1', via: 'worker' },
      },
    ]);
    const live = await snapshot(t);
    const { rows } = await t.db.query<{ n: number }>('SELECT aol_rebuild() AS n');
    expect(rows[0].n).toBe(await store.headSeq());
    expect(await snapshot(t)).toEqual(live);
  });

  it('replay to an earlier seq gives the flags as they were then; at the head it equals the read model', async () => {
    expect((await replayTo(t.db, 1)).flags).toEqual({
      paused: false,
      killed: false,
      proof_mode: true,
      version: 1,
    });
    expect((await replayTo(t.db, 2)).flags).toEqual({
      paused: true,
      killed: false,
      proof_mode: true,
      version: 2,
    });
    const head = await replayTo(t.db, await store.headSeq());
    const live = await control.get();
    expect(head.flags).toEqual({
      paused: live.paused,
      killed: live.killed,
      proof_mode: live.proof_mode,
      version: live.version,
    });
  });

  it('replay by time: the state as of an instant between two events', async () => {
    const [a] = await store.read({ after: 1, limit: 1 });
    const { rows } = await t.db.query<{ seq: number }>(
      `SELECT seq FROM aol_events WHERE occurred_at <= $1 ORDER BY seq DESC LIMIT 1`,
      [a.occurred_at],
    );
    expect(await store.seqAt(new Date(a.occurred_at))).toBe(rows[0].seq);
  });
});
