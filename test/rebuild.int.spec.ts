import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../src/lease/lease.sql.js';
import { claimActions, writeOutcomes } from '../src/worker/worker.sql.js';
import { createTestDb, TestDb } from './support/db.js';
import { enqueue } from './support/queries.js';

/**
 * Regression (found by the replay benchmark): a rebuild updated the queue
 * counters twice per action event inside one transaction, which PostgreSQL
 * makes quadratic. A rebuild now recomputes the counters once; they must
 * still equal the live, event-by-event counters exactly.
 */
describe('rebuild recomputes the queue counters once, exactly', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('rebuild');
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
  });
  afterAll(() => t.db.close());

  it('after claims, successes, failures and cancels, rebuilt counters equal the live ones and the real counts', async () => {
    for (let i = 0; i < 60; i++) await enqueue(t.db, 'NOOP', {}, `rb-${i}`);
    const { epoch } = await acquireLease(t.db, 'w:1', 30);
    const claimed = (await claimActions(t.db, 'w:1', epoch, 40, false))!;
    await writeOutcomes(
      t.db,
      'w:1',
      epoch,
      claimed.map((a, i) => ({
        id: a.id,
        type: i % 3 === 0 ? 'ActionFailed' : 'ActionSucceeded',
        data: { attempt: 1, message: 'm', error: 'e' },
      })),
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
