import { Queryable } from '../db/db.js';

export type PresenceState = 'standby' | 'active' | 'stopping';
export type WorkerStatus = PresenceState | 'dead' | 'left';

/** A row of aol_worker_presence(): a worker process and its status as of database time. */
export type WorkerRow = Readonly<{
  id: string;
  host: string;
  pid: number;
  status: WorkerStatus;
  epoch: number | null;
  ttl_seconds: number;
  started_at_utc: Date;
  seen_at_utc: Date;
  left_at_utc: Date | null;
  seen_age_seconds: number;
  now: Date;
}>;

export type Beat = Readonly<{
  id: string;
  host: string;
  pid: number;
  state: PresenceState;
  epoch: number | null;
  ttlSeconds: number;
  startedAt: Date | null;
}>;

/** Announce or refresh a worker's liveness row; returns the database time it was stamped with. */
export async function beat(db: Queryable, b: Beat): Promise<Date> {
  const { rows } = await db.query<{ t: Date }>(
    'SELECT aol_worker_beat($1, $2, $3, $4, $5, $6, $7) AS t',
    [b.id, b.host, b.pid, b.state, b.epoch, b.ttlSeconds, b.startedAt],
  );
  return rows[0].t;
}

export async function leave(db: Queryable, id: string): Promise<void> {
  await db.query('SELECT aol_worker_leave($1)', [id]);
}

export async function selectWorkers(db: Queryable): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>('SELECT * FROM aol_worker_presence() LIMIT 200');
  return rows.map((r) => ({ ...r, epoch: r.epoch === null ? null : Number(r.epoch) }));
}
