import { Queryable } from '../db/db.js';

/** An active scoped pause, as GET /control, /health/aol and the UI show it. */
export type ScopedPause = Readonly<{
  pause_id: string;
  action_types: string[] | null;
  until: string | null;
  reason: string | null;
  started_by: string;
  started_at: string;
}>;

export async function selectScopedPauses(db: Queryable): Promise<ScopedPause[]> {
  const { rows } = await db.query<ScopedPause>(
    `SELECT pause_id, action_types, aol_iso_ms(until_utc) AS until, reason, started_by,
            aol_iso_ms(started_at_utc) AS started_at
       FROM aol_scoped_pauses WHERE ended_at_utc IS NULL ORDER BY started_at_utc, pause_id`,
  );
  return rows;
}

export async function selectScopedPause(
  db: Queryable,
  pauseId: string,
): Promise<{ ended: boolean } | undefined> {
  const { rows } = await db.query<{ ended: boolean }>(
    'SELECT ended_at_utc IS NOT NULL AS ended FROM aol_scoped_pauses WHERE pause_id = $1',
    [pauseId],
  );
  return rows[0];
}
