import { randomBytes } from 'node:crypto';
import { Db } from '../../src/db/db.js';
import { adminQuery, TestDb } from './db.js';

export type LoginRole = Readonly<{ name: string; url: string; db: Db }>;

/**
 * A non-superuser LOGIN role granted the given AOL group roles, with a URL to
 * the test database. Roles are cluster-wide, hence the random suffix; they
 * own nothing, so leaving them behind is harmless.
 */
export async function createLoginRole(
  t: TestDb,
  label: string,
  groups: readonly string[],
): Promise<LoginRole> {
  const name = `aol_t_${label}_${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('hex')}`;
  await adminQuery(
    `CREATE ROLE ${name} LOGIN NOSUPERUSER PASSWORD '${password}'${groups.length ? ` IN ROLE ${groups.join(', ')}` : ''}`,
  );
  const u = new URL(t.url);
  u.username = name;
  u.password = password;
  return { name, url: u.toString(), db: new Db(u.toString(), { max: 4 }) };
}

/**
 * Liveness columns: written by the lease renewal, never by an event (issue
 * 15), so not history and left out of every comparison of rebuilt and live
 * read models — exactly these, nothing else.
 */
export const LIVENESS_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  aol_lease: ['renewed_at_utc', 'expires_at_utc'],
};

/**
 * The tables that are not projections of the log, and why: the log itself,
 * its partition horizon (storage bookkeeping), content-addressed artifacts,
 * snapshots (hashed into the log), presence rows
 * (docs/events.md), the migrator's bookkeeping. Every other
 * table is a read model and must be in READ_MODEL_KEYS (a test checks).
 */
export const NOT_READ_MODELS: readonly string[] = [
  'aol_events',
  'aol_events_horizon',
  'aol_artifacts',
  'aol_snapshots',
  'aol_workers',
  'aol_migrations',
];

/** Every read model and the column its rows are ordered by. */
export const READ_MODEL_KEYS: Readonly<Record<string, string>> = {
  aol_control_flags: 'id',
  aol_control_ack: 'id',
  aol_proof_requests: 'request_id',
  aol_deployment: 'id',
  aol_clock: 'id',
  aol_lease: 'epoch',
  aol_lease_epoch: 'id',
  aol_tick_ledger: 'seq',
  aol_actions: 'id',
  aol_execution_logs: 'seq',
  aol_queue_counts: 'status',
  aol_schedules: 'schedule_id',
  aol_scoped_pauses: 'pause_id',
};

/** Every read model, as rows in a stable order, without its liveness columns: what a rebuild from the log must reproduce. */
export async function readModels(db: Db): Promise<Record<string, unknown[]>> {
  const tables = READ_MODEL_KEYS;
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(tables)) {
    const rows = (await db.query<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY ${key}`))
      .rows;
    const skip = LIVENESS_COLUMNS[table] ?? [];
    out[table] = rows.map((r) =>
      Object.fromEntries(Object.entries(r).filter(([c]) => !skip.includes(c))),
    );
  }
  return out;
}

/** The read models as they are, and as a rebuild from the log makes them (rolled back). */
export async function liveAndFolded(
  db: Db,
): Promise<{ live: Record<string, unknown[]>; folded: Record<string, unknown[]> }> {
  const live = await readModels(db);
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT aol_rebuild()');
    const folded = await readModels({ query: client.query.bind(client) } as unknown as Db);
    await client.query('ROLLBACK');
    return { live, folded };
  } finally {
    client.release();
  }
}
