import { Queryable } from '../db/db.js';
import type { Recorded } from './alerts.model.js';

/** Session advisory lock held by the one API replica that sends alerts. */
export const ALERT_SENDER_LOCK = 7310014;

export async function tryLeadership(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
    ALERT_SENDER_LOCK,
  ]);
  return rows[0].ok;
}

/**
 * Each alert's state is its last AlertFired/AlertResolved (index
 * aol_events_alert_name), plus the `alert` stream's version to append at.
 */
export async function recordedAlerts(
  db: Queryable,
): Promise<{ alerts: Map<string, Recorded>; version: number }> {
  const [{ rows }, head] = await Promise.all([
    db.query<{ alert: string; type: string; incident_id: string; version: number }>(
      `SELECT DISTINCT ON (data->>'alert') data->>'alert' AS alert, type,
              data->>'incident_id' AS incident_id, stream_version AS version
         FROM aol_events WHERE stream = 'alert' ORDER BY data->>'alert', seq DESC`,
    ),
    db.query<{ v: number }>(
      `SELECT coalesce(max(stream_version), 0)::int AS v FROM aol_events WHERE stream = 'alert'`,
    ),
  ]);
  return {
    alerts: new Map(
      rows.map((r) => [
        r.alert,
        { firing: r.type === 'AlertFired', incident_id: r.incident_id, version: r.version },
      ]),
    ),
    version: head.rows[0].v,
  };
}
