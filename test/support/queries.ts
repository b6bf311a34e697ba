import { Db } from '../../src/db/db.js';

export type Ev = {
  seq: number;
  stream: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  occurred_at: Date;
};

export async function events(db: Db, where = 'true', values: unknown[] = []): Promise<Ev[]> {
  return (
    await db.query<Ev>(
      `SELECT seq, stream, type, data, metadata, occurred_at FROM aol_events WHERE ${where} ORDER BY seq`,
      values,
    )
  ).rows;
}

export async function lease(
  db: Db,
): Promise<{ owner: string; epoch: number; expires_at_utc: Date } | undefined> {
  return (
    await db.query<{ owner: string; epoch: number; expires_at_utc: Date }>(
      'SELECT * FROM aol_lease',
    )
  ).rows[0];
}

export async function action(db: Db, id: number) {
  return (await db.query('SELECT * FROM aol_actions WHERE id = $1', [id])).rows[0];
}

export async function enqueue(
  db: Db,
  type: string,
  payload: object,
  key: string,
  notBefore?: Date,
): Promise<number> {
  const { ActionsService } = await import('../../src/actions/actions.service.js');
  const r = await new ActionsService(db).enqueue(
    { action_type: type, payload, idempotency_key: key, not_before: notBefore?.toISOString() },
    { name: 'test', via: 'api' },
  );
  return r.action.id;
}

/** Ticks recorded so far (one aol_tick_ledger row each), and by whom the latest. */
export async function ticks(db: Db): Promise<{ ticks: number; worker: string | null }> {
  const { rows } = await db.query<{ ticks: string; worker: string }>(
    `SELECT count(*) AS ticks, (SELECT worker FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1) AS worker
       FROM aol_tick_ledger`,
  );
  return { ticks: Number(rows[0]?.ticks ?? 0), worker: rows[0]?.worker ?? null };
}
