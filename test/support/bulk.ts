import { Db } from '../../src/db/db.js';

/**
 * Grow the log to about `mb` megabytes: NOOP ActionEnqueued events of
 * `eventKb` KB each, appended in batches through aol_append_batch (the
 * function every writer uses), so the chain and projections stay real.
 */
export async function bulkLog(db: Db, mb: number, eventKb = 20): Promise<number> {
  const n = Math.ceil((mb * 1024) / eventKb);
  const note = 'x'.repeat(eventKb * 1024);
  for (let i = 0; i < n; i += 100) {
    const k = Math.min(100, n - i);
    const { rows } = await db.query<{ id: number }>(
      `SELECT nextval('aol_action_id_seq') AS id FROM generate_series(1, $1)`,
      [k],
    );
    const batch = rows.map((r) => ({
      stream: `action:${r.id}`,
      expected_version: 0,
      type: 'ActionEnqueued',
      data: {
        id: r.id,
        idempotency_key: `bulk-${r.id}`,
        action_type: 'NOOP',
        payload: { note },
        not_before: new Date(Date.now() + 86_400_000).toISOString(),
      },
      metadata: { actor: 'test', via: 'api' },
    }));
    await db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [JSON.stringify(batch)]);
  }
  return n;
}
