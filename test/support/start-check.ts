import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';

export type LeaseAfterStop = Readonly<{ leaseRows: number; lastLeaseEvent: string | undefined }>;

/**
 * After `npm start` has stopped: start its embedded PostgreSQL again (the
 * state under `stateDir`) and read whether the worker released its lease.
 * `embeddedHome` is the AOL_EMBEDDED_HOME the start used, if any.
 */
export async function leaseAfterStop(
  stateDir: string,
  embeddedHome?: string,
): Promise<LeaseAfterStop> {
  const saved = process.env.AOL_EMBEDDED_HOME;
  if (embeddedHome) process.env.AOL_EMBEDDED_HOME = embeddedHome;
  const db = await startEmbeddedPostgres(stateDir).finally(() => {
    if (embeddedHome) process.env.AOL_EMBEDDED_HOME = saved;
  });
  const client = new pg.Client({ connectionString: db.url('aol') });
  try {
    await client.connect();
    const lease = await client.query('SELECT 1 FROM aol_lease');
    const ev = await client.query<{ type: string }>(
      `SELECT type FROM aol_events WHERE stream = 'lease' ORDER BY seq DESC LIMIT 1`,
    );
    return { leaseRows: lease.rowCount ?? 0, lastLeaseEvent: ev.rows[0]?.type };
  } finally {
    await client.end().catch(() => undefined);
    await db.stop();
  }
}
