import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../src/lease/lease.sql.js';
import { recordAndClaim } from '../src/worker/worker.sql.js';
import { createTestDb, TestDb } from './support/db.js';
import { enqueue } from './support/queries.js';

/**
 * Regression for a race the chaos suite found: the claim used the worker's
 * in-memory flags, so a pause committed just before a claim (NOTIFY not yet
 * applied) could still start an action after the pause in log order, in the
 * proof mode the worker last knew. The claim now reads the flags itself.
 */
describe('the claim reads the control flags in the same statement', () => {
  let t: TestDb;
  let epoch: number;
  // a claim alone: aol_record_and_claim without outcomes
  const claim = (e: number, limit: number) => recordAndClaim(t.db, 'w:1', e, [], limit, false);
  beforeAll(async () => {
    t = await createTestDb('claim');
    epoch = (await acquireLease(t.db, 'w:1', 30)).epoch;
    await enqueue(t.db, 'POST_SOCIAL', { social_platform: 'x', content: 'a' }, 'c-1');
    await enqueue(t.db, 'POST_SOCIAL', { social_platform: 'x', content: 'b' }, 'c-2');
  });
  afterAll(() => t.db.close());

  it('claims nothing while paused or killed, whatever the worker believes', async () => {
    const nothing = { fenced: false, written: new Map(), claimed: [] };
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    expect(await claim(epoch, 5)).toEqual(nothing);
    await t.db.query('UPDATE aol_control_flags SET paused = false, killed = true WHERE id = 1');
    expect(await claim(epoch, 5)).toEqual(nothing);
    await t.db.query('UPDATE aol_control_flags SET killed = false WHERE id = 1');
  });

  it("an attempt's proof mode is AOL_PROOF_MODE OR the flag as of the claim", async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    const [a] = (await claim(epoch, 1)).claimed;
    expect(a.proof_mode).toBe(true);
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    const [b] = (await claim(epoch, 1)).claimed;
    expect(b.proof_mode).toBe(false);
    const { rows } = await t.db.query(
      `SELECT data FROM aol_events WHERE type = 'ActionStarted' ORDER BY seq`,
    );
    expect(rows.map((r) => r.data.proof_mode)).toEqual([true, false]);
  });

  it('a stale epoch claims nothing and leaves a FencedWriteRejected record', async () => {
    const { rows: before } = await t.db.query(`SELECT count(*)::int AS n FROM aol_events`);
    expect(await claim(epoch + 5, 1)).toEqual({ fenced: true, written: new Map(), claimed: [] });
    const { rows } = await t.db.query(`SELECT type, data FROM aol_events ORDER BY seq OFFSET $1`, [
      before[0].n,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      type: 'FencedWriteRejected',
      data: { worker: 'w:1', epoch: epoch + 5, current_epoch: epoch, attempted: 'claim' },
    });
  });

  it('a batch of outcomes: ok for its RUNNING actions, stale for a repeat or one no longer running', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    for (const k of ['o-1', 'o-2']) await enqueue(t.db, 'NOOP', {}, k);
    const [a, b] = (await claim(epoch, 2)).claimed;
    const ok = { type: 'ActionSucceeded', data: { attempt: 1, message: 'done' } };
    // outcomes alone: limit 0. Per item, in order: the repeat of a is stale
    // (a is no longer RUNNING once its first outcome is in)
    const first = await t.db.query(
      `SELECT kind, id, result FROM aol_record_and_claim($1, $2, $3, 0, false)`,
      [
        'w:1',
        epoch,
        JSON.stringify([
          { id: a.id, ...ok },
          { id: b.id, ...ok },
          { id: a.id, ...ok },
        ]),
      ],
    );
    expect(first.rows.map((r) => [r.kind, Number(r.id), r.result])).toEqual([
      ['outcome', a.id, 'ok'],
      ['outcome', b.id, 'ok'],
      ['outcome', a.id, 'stale'],
    ]);
    const again = await recordAndClaim(t.db, 'w:1', epoch, [{ id: b.id, ...ok }], 0, false);
    expect(again).toEqual({ fenced: false, written: new Map([[b.id, 'stale']]), claimed: [] });
    const succeeded = await t.db.query(
      `SELECT stream FROM aol_events WHERE type = 'ActionSucceeded' ORDER BY seq`,
    );
    expect(succeeded.rows.map((r) => r.stream)).toEqual([`action:${a.id}`, `action:${b.id}`]);
  });
});

/**
 * The tick's one statement per batch (aol_record_and_claim): the previous
 * batch's outcomes and the next claim, behind one fence, in one append.
 */
describe('record the last batch and claim the next in one statement', () => {
  let t: TestDb;
  let epoch: number;
  const ok = { type: 'ActionSucceeded', data: { attempt: 1, message: 'done' } };
  const head = async () =>
    Number((await t.db.query('SELECT coalesce(max(seq), 0) AS s FROM aol_events')).rows[0].s);
  const since = async (seq: number) =>
    (
      await t.db.query<{ seq: number; type: string; stream: string; occurred_at: Date }>(
        'SELECT seq, type, stream, occurred_at FROM aol_events WHERE seq > $1 ORDER BY seq',
        [seq],
      )
    ).rows;
  const status = async (id: number) =>
    (await t.db.query('SELECT status FROM aol_actions WHERE id = $1', [id])).rows[0].status;
  beforeAll(async () => {
    t = await createTestDb('record_claim');
    epoch = (await acquireLease(t.db, 'w:1', 30)).epoch;
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    for (const k of ['r-1', 'r-2', 'r-3', 'r-4']) await enqueue(t.db, 'NOOP', {}, k);
  });
  afterAll(() => t.db.close());

  it('records the outcome and starts the next action in one append; a pause committed between two actions at batch 1 stops the next claim', async () => {
    const first = await recordAndClaim(t.db, 'w:1', epoch, [], 1, false);
    expect(first.fenced).toBe(false);
    expect(first.written.size).toBe(0);
    const [a] = first.claimed;
    expect(a).toMatchObject({ action_type: 'NOOP', attempt: 1, proof_mode: false });

    const before = await head();
    const second = await recordAndClaim(t.db, 'w:1', epoch, [{ id: a.id, ...ok }], 1, false);
    expect([...second.written]).toEqual([[a.id, 'ok']]);
    const [b] = second.claimed;
    expect(b.id).not.toBe(a.id);
    // one append: consecutive seqs, one occurred_at, the outcome first
    const appended = await since(before);
    expect(appended.map((e) => [e.type, e.stream])).toEqual([
      ['ActionSucceeded', `action:${a.id}`],
      ['ActionStarted', `action:${b.id}`],
    ]);
    expect(appended[1].occurred_at.getTime()).toBe(appended[0].occurred_at.getTime());
    expect(await status(a.id)).toBe('SUCCESS');
    expect(await status(b.id)).toBe('RUNNING');

    // a pause committed while b runs: b's outcome is recorded, nothing more starts
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    const paused = await head();
    const third = await recordAndClaim(t.db, 'w:1', epoch, [{ id: b.id, ...ok }], 1, false);
    expect([...third.written]).toEqual([[b.id, 'ok']]);
    expect(third.claimed).toEqual([]);
    expect((await since(paused)).map((e) => e.type)).toEqual(['ActionSucceeded']);
    await t.db.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
    // limit 0 records only
    const [c] = (await recordAndClaim(t.db, 'w:1', epoch, [], 1, false)).claimed;
    const last = await recordAndClaim(t.db, 'w:1', epoch, [{ id: c.id, ...ok }], 0, false);
    expect([...last.written]).toEqual([[c.id, 'ok']]);
    expect(last.claimed).toEqual([]);
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM aol_actions WHERE status = 'PENDING'`))
        .rows[0].n,
    ).toBe(1);
  });

  it('a fenced worker commits nothing but FencedWriteRejected: its outcomes are not recorded (each rejection recorded) and nothing is claimed', async () => {
    const [d] = (await recordAndClaim(t.db, 'w:1', epoch, [], 1, false)).claimed;
    await enqueue(t.db, 'NOOP', {}, 'r-5');
    const before = await head();
    const r = await recordAndClaim(t.db, 'w:1', epoch + 5, [{ id: d.id, ...ok }], 1, false);
    expect(r.fenced).toBe(true);
    expect([...r.written]).toEqual([[d.id, 'fenced']]);
    expect(r.claimed).toEqual([]);
    const { rows } = await t.db.query(
      'SELECT type, data FROM aol_events WHERE seq > $1 ORDER BY seq',
      [before],
    );
    expect(rows.map((e) => [e.type, e.data.attempted, e.data.action_id ?? null])).toEqual([
      ['FencedWriteRejected', 'outcomes', null],
      ['FencedWriteRejected', ok.type, d.id],
    ]);
    expect(await status(d.id)).toBe('RUNNING');
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM aol_actions WHERE status = 'PENDING'`))
        .rows[0].n,
    ).toBe(1);
  });
});
