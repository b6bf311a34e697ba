import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../src/lease/lease.sql.js';
import { recordAndClaim } from '../src/worker/worker.sql.js';
import { createTestDb, TestDb } from './support/db.js';
import { enqueue } from './support/queries.js';
import { NOT_READ_MODELS, READ_MODEL_KEYS } from './support/roles.js';

/**
 * Regression (found by the replay benchmark): a rebuild updated the queue
 * counters twice per action event inside one transaction, which PostgreSQL
 * makes quadratic. A rebuild now moves them once per chunk of events (by
 * per-status deltas, migrations/0009); they must still equal the live
 * counters and the real counts exactly.
 */
describe('rebuild keeps the queue counters exact', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('rebuild');
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
  });
  afterAll(() => t.db.close());

  it('after claims, successes, failures and cancels, rebuilt counters equal the live ones and the real counts', async () => {
    for (let i = 0; i < 60; i++) await enqueue(t.db, 'NOOP', {}, `rb-${i}`);
    const { epoch } = await acquireLease(t.db, 'w:1', 30);
    const { claimed } = await recordAndClaim(t.db, 'w:1', epoch, [], 40, false);
    expect(claimed).toHaveLength(40);
    await recordAndClaim(
      t.db,
      'w:1',
      epoch,
      claimed.map((a, i) => ({
        id: a.id,
        type: i % 3 === 0 ? 'ActionFailed' : 'ActionSucceeded',
        data: { attempt: 1, message: 'm', error: 'e' },
      })),
      0,
      false,
    );
    await t.db.query(`UPDATE aol_actions SET status = 'CANCELLED' WHERE status = 'FAILED'`);
    const counts = async () =>
      Object.fromEntries(
        (await t.db.query('SELECT status, n FROM aol_queue_counts ORDER BY status')).rows.map(
          (r) => [r.status, Number(r.n)],
        ),
      );
    const live = await counts();
    const real = Object.fromEntries(
      (
        await t.db.query('SELECT status, count(*)::int AS n FROM aol_actions GROUP BY status')
      ).rows.map((r) => [r.status, r.n]),
    );
    for (const [s, n] of Object.entries(live)) expect([s, n]).toEqual([s, real[s] ?? 0]);
    await t.db.query('SELECT aol_rebuild()');
    expect(await counts()).toEqual(live);
    // and live counting still works after a rebuild in the same session
    await enqueue(t.db, 'NOOP', {}, 'rb-after');
    expect((await counts()).PENDING).toBe(live.PENDING + 1);
  });
});

describe("the rebuild's first pass", () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('rebuild_streams');
  });
  afterAll(async () => {
    await t?.db.close();
  });

  it("reads every stream the log allows but the actions' (the list in aol_rebuild = aol_events_stream_check)", async () => {
    const { rows } = await t.db.query<{ check: string; body: string }>(
      `SELECT (SELECT pg_get_constraintdef(oid) FROM pg_constraint
                WHERE conname = 'aol_events_stream_check' AND conrelid = 'aol_events'::regclass) AS check,
              (SELECT prosrc FROM pg_proc WHERE proname = 'aol_rebuild') AS body`,
    );
    const allowed = /\^\(([^)]*)\)\$/
      .exec(rows[0].check)![1]
      .split('|')
      .filter((s) => !s.startsWith('action:'));
    const listed = /e\.stream = ANY \(ARRAY\[([^\]]*)\]\)/
      .exec(rows[0].body)![1]
      .split(',')
      .map((s) => s.trim().replace(/'/g, ''));
    expect(listed.sort()).toEqual(allowed.sort());
  });
});

/**
 * Appends project set-based (migrations/0009): a batch folds each action's
 * events into one row write. Folding must give exactly what the events give
 * one at a time, wherever the batch or a rebuild chunk starts and ends.
 */
describe('set-based projection', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('setbased');
  });
  afterAll(() => t.db.close());

  // enqueue → started → retry → requeued → started → succeeded, with an artifact
  const lifecycle = (id: number) => {
    const s = `action:${id}`;
    const m = { actor: 'test', via: 'worker' };
    return [
      {
        stream: s,
        type: 'ActionEnqueued',
        metadata: m,
        data: {
          idempotency_key: `k-${id}`,
          action_type: 'NOOP',
          payload: { n: id },
          not_before: '2026-01-01T00:00:00.000000Z',
        },
      },
      {
        stream: s,
        type: 'ActionStarted',
        metadata: m,
        data: { attempt: 1, worker: 'w:1', epoch: 1, proof_mode: false },
      },
      {
        stream: s,
        type: 'ActionRetryScheduled',
        metadata: m,
        data: { attempt: 1, error: 'boom', retry_at: '2026-01-01T00:01:00.000000Z' },
      },
      { stream: s, type: 'ActionRequeued', metadata: m, data: { previous_status: 'RETRY' } },
      {
        stream: s,
        type: 'ActionStarted',
        metadata: m,
        data: { attempt: 1, worker: 'w:2', epoch: 2, proof_mode: true },
      },
      {
        stream: s,
        type: 'ActionSucceeded',
        metadata: m,
        data: { attempt: 1, message: 'done', artifact_ref: `a-${id}`, artifact_sha256: 'ff' },
      },
    ];
  };
  const row = async (id: number) => {
    const { rows } = await t.db.query<Record<string, unknown>>(
      `SELECT status, action_type, payload, attempts, last_error, worker, epoch FROM aol_actions WHERE id = $1`,
      [id],
    );
    const logs = await t.db.query(
      'SELECT level, message, artifact_ref FROM aol_execution_logs WHERE action_id = $1 ORDER BY seq',
      [id],
    );
    return {
      ...rows[0],
      payload: undefined,
      logs: logs.rows.map((l) => ({
        ...l,
        message: l.message.replace(/\d+/g, 'N'),
        artifact_ref: l.artifact_ref?.replace(/\d+/g, 'N'),
      })),
    };
  };
  const counts = async () =>
    (await t.db.query('SELECT status, n FROM aol_queue_counts ORDER BY status')).rows;
  const realCounts = async () =>
    (
      await t.db.query(
        `SELECT s AS status, (SELECT count(*) FROM aol_actions WHERE status = s) AS n
           FROM unnest(ARRAY['CANCELLED','DLQ','FAILED','PENDING','RETRY','RUNNING','SUCCESS','UNKNOWN']) s ORDER BY s`,
      )
    ).rows;

  it('a whole lifecycle in one batch projects as the same events appended one at a time', async () => {
    for (const e of lifecycle(1001))
      await t.db.query('SELECT aol_append($1, NULL, $2, $3, $4)', [
        e.stream,
        e.type,
        e.data,
        e.metadata,
      ]);
    await t.db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [
      JSON.stringify(lifecycle(1002)),
    ]);
    const one = await row(1001);
    expect(one).toMatchObject({
      status: 'SUCCESS',
      attempts: 1,
      worker: 'w:2',
      last_error: 'boom',
    });
    expect(Number((one as Record<string, unknown>).epoch)).toBe(2);
    expect(one.logs).toHaveLength(6);
    expect(await row(1002)).toEqual(one);
    expect(await counts()).toEqual(await realCounts());
  });

  it('a batch mixing streams keeps each stream in order and the counters exact', async () => {
    const a = lifecycle(2001);
    const b = lifecycle(2002);
    // interleaved: a0 b0 a1 b1 …, with a tick in the middle
    const mixed = a.flatMap((e, i) => [e, b[i]]);
    mixed.splice(5, 0, {
      stream: 'tick',
      type: 'TickRecorded',
      metadata: { actor: 'w:1', via: 'worker' },
      data: {
        started_at: '2026-01-01T00:00:00Z',
        finished_at: '2026-01-01T00:00:01Z',
        status: 'SUCCESS',
        actions_attempted: 0,
        actions_succeeded: 0,
        notes: 'n',
        worker: 'w:1',
        epoch: 1,
      } as never,
    });
    await t.db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [JSON.stringify(mixed)]);
    expect(await row(2001)).toEqual(await row(1001));
    expect(await row(2002)).toEqual(await row(1001));
    const ledger = await t.db.query(`SELECT count(*)::int AS n FROM aol_tick_ledger`);
    expect(ledger.rows[0].n).toBe(1);
    expect(await counts()).toEqual(await realCounts());
  });

  it('a rebuild in chunks that cut through actions’ event sequences equals the live tables', async () => {
    // leave some actions mid-way too, and a runbook cancel
    for (const id of [3001, 3002, 3003])
      await t.db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [
        JSON.stringify(lifecycle(id).slice(0, id - 2999)),
      ]);
    await t.db.query(`UPDATE aol_actions SET status = 'CANCELLED' WHERE id = 3002`);
    const dump = async () => {
      const out: Record<string, unknown[]> = {};
      for (const table of [
        'aol_actions',
        'aol_execution_logs',
        'aol_queue_counts',
        'aol_tick_ledger',
      ])
        out[table] = (await t.db.query(`SELECT * FROM ${table} ORDER BY 1`)).rows;
      return out;
    };
    const live = await dump();
    for (const chunk of [1, 3, 7, 10000]) {
      await t.db.query('SELECT aol_rebuild($1)', [chunk]);
      expect(await dump()).toEqual(live);
    }
  });

  it('a rebuild reconciles the execution log: a changed, a missing and a stray row are put right, unchanged rows are not rewritten', async () => {
    const logs = async () =>
      (await t.db.query('SELECT * FROM aol_execution_logs ORDER BY seq')).rows;
    await t.db.query('SELECT aol_rebuild()');
    const live = await logs();
    expect(live.length).toBeGreaterThan(3);
    // row versions before: an unchanged row keeps its ctid through a rebuild
    const ctids = async () =>
      (
        await t.db.query<{ c: string }>(
          'SELECT ctid::text AS c FROM aol_execution_logs ORDER BY seq',
        )
      ).rows.map((r) => r.c);
    const before = await ctids();
    await t.db.query('SELECT aol_rebuild()');
    expect(await ctids()).toEqual(before);
    // tamper with the read model directly (superuser, triggers off)
    const [first, second] = live as { seq: number }[];
    await t.db.tx(async (c) => {
      await c.query('SET LOCAL session_replication_role = replica');
      await c.query(
        `UPDATE aol_execution_logs SET message = 'forged', level = 'ERROR' WHERE seq = $1`,
        [first.seq],
      );
      await c.query('DELETE FROM aol_execution_logs WHERE seq = $1', [second.seq]);
      const tick = await c.query<{ seq: number }>(
        `SELECT seq FROM aol_events WHERE stream NOT LIKE 'action:%' ORDER BY seq LIMIT 1`,
      );
      // a row at the seq of an event that is no action event, and one beyond the head
      await c.query(
        `INSERT INTO aol_execution_logs VALUES ($1, 1, now(), 'INFO', 'stray', NULL, NULL)`,
        [tick.rows[0].seq],
      );
      await c.query(
        `INSERT INTO aol_execution_logs VALUES (999999, 1, now(), 'INFO', 'stray', NULL, NULL)`,
      );
    });
    expect(await logs()).not.toEqual(live);
    for (const chunk of [2, 10000]) {
      await t.db.query('SELECT aol_rebuild($1)', [chunk]);
      expect(await logs()).toEqual(live);
    }
  });
});

/**
 * aol_actions is reconciled too (docs/benchmarks.md §5): the rebuild folds
 * each action's whole stream in one call and upserts the row, leaving a row
 * that is already right alone, and deletes the rows the log does not enqueue.
 */
describe('a rebuild reconciles aol_actions', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('rebuild_actions');
  });
  afterAll(() => t.db.close());

  const m = { actor: 'test', via: 'worker' };
  const append = (stream: string, type: string, data: object) =>
    t.db.query('SELECT aol_append($1, NULL, $2, $3, $4)', [stream, type, data, m]);
  const enqueued = (id: number) => ({
    idempotency_key: `odd-${id}`,
    action_type: 'NOOP',
    payload: { n: id },
    not_before: '2026-01-01T00:00:00.000000Z',
  });
  const started = (attempt: number, worker: string) => ({
    attempt,
    worker,
    epoch: 7,
    proof_mode: false,
  });
  const dump = async () => {
    const out: Record<string, unknown[]> = {};
    for (const table of ['aol_actions', 'aol_execution_logs', 'aol_queue_counts'])
      out[table] = (await t.db.query(`SELECT * FROM ${table} ORDER BY 1`)).rows;
    return out;
  };
  const ctids = async () =>
    (
      await t.db.query<{ id: string; c: string }>(
        'SELECT id, ctid::text AS c FROM aol_actions ORDER BY id',
      )
    ).rows;

  it('odd logs (action events before or without an ActionEnqueued) rebuild to what the live projection made of them one event at a time', async () => {
    // events of actions that are never enqueued
    await append('action:901', 'ActionStarted', started(1, 'w:orphan'));
    await append('action:901', 'ActionFailed', { attempt: 1, error: 'orphan' });
    await append('action:902', 'ActionCancelled', { previous_status: 'PENDING' });
    // events before the enqueue (they find no row), then a lifecycle
    await append('action:903', 'ActionStarted', started(5, 'w:early'));
    await append('action:903', 'ActionRetryScheduled', {
      attempt: 5,
      error: 'early',
      retry_at: '2030-01-01T00:00:00.000000Z',
    });
    await append('action:903', 'ActionEnqueued', enqueued(903));
    await append('action:903', 'ActionStarted', started(1, 'w:1'));
    // interleaved with a plain action and a tick
    await append('action:904', 'ActionEnqueued', enqueued(904));
    await append('action:903', 'ActionSucceeded', { attempt: 1, message: 'ok' });
    await append('action:905', 'ActionRequeued', { previous_status: 'DLQ' });
    await append('action:905', 'ActionEnqueued', enqueued(905));
    const live = await dump();
    expect((live.aol_actions as { id: string }[]).map((r) => Number(r.id))).toEqual([
      903, 904, 905,
    ]);
    expect(live.aol_actions[0]).toMatchObject({
      status: 'SUCCESS',
      attempts: 1,
      last_error: null,
      worker: 'w:1',
    });
    expect(live.aol_execution_logs).toHaveLength(11);
    for (const chunk of [1, 3, 7, 10000]) {
      await t.db.query('SELECT aol_rebuild($1)', [chunk]);
      expect(await dump()).toEqual(live);
    }
    // the same events in one batch project as they did one at a time
    const batch = [
      ['action:913', 'ActionStarted', started(5, 'w:early')],
      ['action:913', 'ActionEnqueued', enqueued(913)],
      ['action:913', 'ActionStarted', started(1, 'w:1')],
      ['action:913', 'ActionSucceeded', { attempt: 1, message: 'ok' }],
    ] as const;
    await t.db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [
      JSON.stringify(batch.map(([stream, type, data]) => ({ stream, type, data, metadata: m }))),
    ]);
    const row = async (id: number) =>
      (
        await t.db.query(
          'SELECT status, attempts, last_error, worker, epoch, not_before_utc FROM aol_actions WHERE id = $1',
          [id],
        )
      ).rows[0];
    expect(await row(913)).toEqual(await row(903));
  });

  it('a second ActionEnqueued of an action is refused, in one batch and across appends', async () => {
    await expect(append('action:904', 'ActionEnqueued', enqueued(9040))).rejects.toThrow(
      /enqueued twice/,
    );
    const twice = [enqueued(920), enqueued(921)].map((data) => ({
      stream: 'action:920',
      type: 'ActionEnqueued',
      data,
      metadata: m,
    }));
    await expect(
      t.db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [JSON.stringify(twice)]),
    ).rejects.toThrow(/enqueued twice/);
  });

  it('unchanged rows keep their ctid; a changed, a missing and a stray row are put right', async () => {
    for (let i = 0; i < 20; i++) await enqueue(t.db, 'NOOP', {}, `rc-${i}`);
    await t.db.query('SELECT aol_rebuild()');
    const live = await dump();
    const before = await ctids();
    for (const chunk of [3, 10000]) {
      await t.db.query('SELECT aol_rebuild($1)', [chunk]);
      expect(await ctids()).toEqual(before);
      expect(await dump()).toEqual(live);
    }
    const ids = before.map((r) => Number(r.id));
    await t.db.tx(async (c) => {
      await c.query('SET LOCAL session_replication_role = replica');
      await c.query(
        `UPDATE aol_actions SET status = 'DLQ', last_error = 'forged', attempts = 9 WHERE id = $1`,
        [ids[0]],
      );
      await c.query('DELETE FROM aol_actions WHERE id = $1', [ids[1]]);
      await c.query(
        `INSERT INTO aol_actions SELECT 777777, 'stray', action_type, payload, 'RUNNING', not_before_utc, 1, NULL,
                created_at_utc, updated_at_utc, 'w:x', 1 FROM aol_actions WHERE id = $1`,
        [ids[2]],
      );
      await c.query(`UPDATE aol_queue_counts SET n = n + 5 WHERE status = 'PENDING'`);
    });
    expect(await dump()).not.toEqual(live);
    await t.db.query('SELECT aol_rebuild()');
    expect(await dump()).toEqual(live);
    // only the changed and the missing row were written
    const was = new Map(before.map((r) => [r.id, r.c]));
    const moved = (await ctids()).filter((r) => was.get(r.id) !== r.c).map((r) => Number(r.id));
    expect(moved).toEqual([ids[0], ids[1]]);
  });

  it('a wrong row holding an idempotency key the log gives another action is put right too', async () => {
    const live = await dump();
    const [a, b] = (
      await t.db.query<{ id: string }>(
        `SELECT id FROM aol_actions WHERE idempotency_key LIKE 'rc-%' ORDER BY id LIMIT 2`,
      )
    ).rows.map((r) => Number(r.id));
    await t.db.tx(async (c) => {
      await c.query('SET LOCAL session_replication_role = replica');
      // the two keys swapped, and a stray row with a key of the log's
      await c.query(
        `UPDATE aol_actions SET idempotency_key = CASE id WHEN $1 THEN 'swap' ELSE (SELECT idempotency_key FROM aol_actions WHERE id = $1) END WHERE id IN ($1, $2)`,
        [a, b],
      );
      await c.query(`DELETE FROM aol_actions WHERE idempotency_key = 'odd-904'`);
      await c.query(
        `INSERT INTO aol_actions SELECT 888888, 'odd-904', action_type, payload, status, not_before_utc, 0, NULL,
                created_at_utc, updated_at_utc, NULL, NULL FROM aol_actions WHERE id = $1`,
        [a],
      );
    });
    expect(await dump()).not.toEqual(live);
    await t.db.query('SELECT aol_rebuild()');
    expect(await dump()).toEqual(live);
  });
});

describe('the rebuild comparison covers every read model', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('rebuild_tables');
  });
  afterAll(() => t.db.close());

  it('every table of the migrated schema is a compared read model or named as not a projection', async () => {
    const { rows } = await t.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    const known = new Set([...Object.keys(READ_MODEL_KEYS), ...NOT_READ_MODELS]);
    expect(rows.map((r) => r.name).filter((n) => !known.has(n))).toEqual([]);
    // and nothing listed is gone
    const present = new Set(rows.map((r) => r.name));
    expect(Object.keys(READ_MODEL_KEYS).filter((n) => !present.has(n))).toEqual([]);
  });
});
