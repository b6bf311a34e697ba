import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../src/lease/lease.sql.js';
import { claimActions, writeOutcomes } from '../src/worker/worker.sql.js';
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
