import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../src/lease/lease.sql.js';
import { claimActions, recordAndClaim, writeOutcomes } from '../src/worker/worker.sql.js';
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
  beforeAll(async () => {
    t = await createTestDb('claim');
    epoch = (await acquireLease(t.db, 'w:1', 30)).epoch;
    await enqueue(t.db, 'POST_SOCIAL', { social_platform: 'x', content: 'a' }, 'c-1');
    await enqueue(t.db, 'POST_SOCIAL', { social_platform: 'x', content: 'b' }, 'c-2');
  });
  afterAll(() => t.db.close());

  it('claims nothing while paused or killed, whatever the worker believes', async () => {
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    expect(await claimActions(t.db, 'w:1', epoch, 5, false)).toEqual([]);
    await t.db.query('UPDATE aol_control_flags SET paused = false, killed = true WHERE id = 1');
    expect(await claimActions(t.db, 'w:1', epoch, 5, false)).toEqual([]);
    await t.db.query('UPDATE aol_control_flags SET killed = false WHERE id = 1');
  });

  it("an attempt's proof mode is AOL_PROOF_MODE OR the flag as of the claim", async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    const [a] = (await claimActions(t.db, 'w:1', epoch, 1, false))!;
    expect(a.proof_mode).toBe(true);
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    const [b] = (await claimActions(t.db, 'w:1', epoch, 1, false))!;
    expect(b.proof_mode).toBe(false);
    const { rows } = await t.db.query(
      `SELECT data FROM aol_events WHERE type = 'ActionStarted' ORDER BY seq`,
    );
    expect(rows.map((r) => r.data.proof_mode)).toEqual([true, false]);
  });

  it('a stale epoch claims nothing and leaves a FencedWriteRejected record', async () => {
    expect(await claimActions(t.db, 'w:1', epoch + 5, 1, false)).toBeNull();
    const { rows } = await t.db.query(
      `SELECT data FROM aol_events WHERE type = 'FencedWriteRejected'`,
    );
    expect(rows[0].data).toMatchObject({
      worker: 'w:1',
      epoch: epoch + 5,
      current_epoch: epoch,
      attempted: 'claim',
    });
  });

  it('a batch of outcomes: ok for its RUNNING actions, stale for a repeat or one no longer running; fenced for a stale epoch, each rejection recorded', async () => {
    await t.db.query('UPDATE aol_control_flags SET proof_mode = true WHERE id = 1');
    for (const k of ['o-1', 'o-2', 'o-3']) await enqueue(t.db, 'NOOP', {}, k);
    const [a, b, c] = (await claimActions(t.db, 'w:1', epoch, 3, false))!;
    const ok = { type: 'ActionSucceeded', data: { attempt: 1, message: 'done' } };
    // per item, in order: the repeat of a is stale (a is no longer RUNNING once its first outcome is in)
    const first = await t.db.query('SELECT id, result FROM aol_action_outcomes($1, $2, $3)', [
      'w:1',
      epoch,
      JSON.stringify([
        { id: a.id, ...ok },
        { id: b.id, ...ok },
        { id: a.id, ...ok },
      ]),
    ]);
    expect(first.rows.map((r) => [Number(r.id), r.result])).toEqual([
      [a.id, 'ok'],
      [b.id, 'ok'],
      [a.id, 'stale'],
    ]);
    const again = await writeOutcomes(t.db, 'w:1', epoch, [{ id: b.id, ...ok }]);
    expect(again.get(b.id)).toBe('stale');
    const succeeded = await t.db.query(
      `SELECT stream FROM aol_events WHERE type = 'ActionSucceeded' ORDER BY seq`,
    );
    expect(succeeded.rows.map((r) => r.stream)).toEqual([`action:${a.id}`, `action:${b.id}`]);
    const rejectedBefore = (
      await t.db.query(
        `SELECT count(*)::int AS n FROM aol_events WHERE type = 'FencedWriteRejected'`,
      )
    ).rows[0].n;
    const fenced = await writeOutcomes(t.db, 'w:1', epoch + 5, [{ id: c.id, ...ok }]);
    expect(fenced.get(c.id)).toBe('fenced');
    const rejected = await t.db.query(
      `SELECT data FROM aol_events WHERE type = 'FencedWriteRejected' ORDER BY seq OFFSET $1`,
      [rejectedBefore],
    );
    // the batch's rejection, then one per refused outcome naming its action and type
    expect(rejected.rows.map((r) => [r.data.attempted, r.data.action_id ?? null])).toEqual([
      ['outcomes', null],
      [ok.type, c.id],
    ]);
    expect(
      (await t.db.query('SELECT status FROM aol_actions WHERE id = $1', [c.id])).rows[0].status,
    ).toBe('RUNNING');
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
    // killed: nothing either
    await t.db.query('UPDATE aol_control_flags SET paused = false, killed = true WHERE id = 1');
    expect((await recordAndClaim(t.db, 'w:1', epoch, [], 1, false)).claimed).toEqual([]);
    await t.db.query('UPDATE aol_control_flags SET killed = false WHERE id = 1');
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

  it('a fenced worker commits nothing but FencedWriteRejected: its outcomes are not recorded and nothing is claimed', async () => {
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
    // without outcomes: one rejection of the claim
    const claimOnly = await head();
    expect((await recordAndClaim(t.db, 'w:1', epoch + 5, [], 1, false)).fenced).toBe(true);
    expect((await since(claimOnly)).map((e) => e.type)).toEqual(['FencedWriteRejected']);
  });
});
