import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../src/lease/lease.sql.js';
import { claimActions } from '../src/worker/worker.sql.js';
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
});
