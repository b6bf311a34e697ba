import { Queryable } from '../db/db.js';

export type ActionRow = Readonly<{
  id: number;
  idempotency_key: string;
  action_type: string;
  payload: unknown;
  status: string;
  not_before_utc: Date;
  attempts: number;
  last_error: string | null;
  created_at_utc: Date;
  updated_at_utc: Date;
  worker: string | null;
  epoch: number | null;
}>;

export type ActionView = Readonly<{
  id: number;
  idempotency_key: string;
  action_type: string;
  payload: unknown;
  status: string;
  attempts: number;
  not_before_utc: string;
  last_error: string | null;
  created_at_utc: string;
  updated_at_utc: string;
}>;

export const toActionView = (r: ActionRow): ActionView => ({
  id: r.id,
  idempotency_key: r.idempotency_key,
  action_type: r.action_type,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  not_before_utc: r.not_before_utc.toISOString(),
  last_error: r.last_error,
  created_at_utc: r.created_at_utc.toISOString(),
  updated_at_utc: r.updated_at_utc.toISOString(),
});

export async function selectAction(db: Queryable, id: number): Promise<ActionRow | undefined> {
  const { rows } = await db.query<ActionRow>('SELECT * FROM aol_actions WHERE id = $1', [id]);
  return rows[0];
}

export async function selectActionByKey(
  db: Queryable,
  key: string,
): Promise<ActionRow | undefined> {
  const { rows } = await db.query<ActionRow>(
    'SELECT * FROM aol_actions WHERE idempotency_key = $1',
    [key],
  );
  return rows[0];
}

export async function nextActionId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: number }>(`SELECT nextval('aol_action_id_seq') AS id`);
  return rows[0].id;
}

/** Newest first, keyset-paged by id. */
export async function listActions(
  db: Queryable,
  status: string | undefined,
  limit: number,
  before: number | undefined,
): Promise<ActionRow[]> {
  const { rows } = await db.query<ActionRow>(
    `SELECT * FROM aol_actions WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [status ?? null, before ?? null, limit],
  );
  return rows;
}

export async function selectActionsByStatus(db: Queryable, status: string): Promise<ActionRow[]> {
  const { rows } = await db.query<ActionRow>(
    'SELECT * FROM aol_actions WHERE status = $1 ORDER BY id',
    [status],
  );
  return rows;
}

export type LogRow = Readonly<{
  seq: number;
  ts_utc: Date;
  level: string;
  message: string;
  artifact_ref: string | null;
  artifact_sha256: string | null;
}>;

export async function selectLogs(db: Queryable, actionId: number) {
  const { rows } = await db.query<LogRow>(
    'SELECT seq, ts_utc, level, message, artifact_ref, artifact_sha256 FROM aol_execution_logs WHERE action_id = $1 ORDER BY seq',
    [actionId],
  );
  return rows.map((r) => ({ ...r, ts_utc: r.ts_utc.toISOString() }));
}
