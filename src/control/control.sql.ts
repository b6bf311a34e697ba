import { Queryable } from '../db/db.js';
import { ControlState } from './control.decider.js';
import { ProofRequest } from './proof-approval.decider.js';
import type { ScopedPause } from './scoped-pause.sql.js';

export type ControlRow = Readonly<{
  paused: boolean;
  killed: boolean;
  proof_mode: boolean;
  version: number;
  updated_at_utc: Date | null;
  ack_version: number;
  ack_worker: string | null;
  ack_delay_ms: number | null;
  ack_at: Date | null;
  pending: {
    request_id: string;
    requested_by: string;
    reason: string | null;
    requested_at: string;
    expires_at: string;
  } | null;
  scoped: ScopedPause[] | null;
}>;

export async function selectControl(db: Queryable): Promise<ControlRow> {
  const { rows } = await db.query<ControlRow>(
    `SELECT f.paused, f.killed, f.proof_mode, f.version, f.updated_at_utc,
            a.control_version AS ack_version, a.worker AS ack_worker, a.delay_ms AS ack_delay_ms,
            a.acknowledged_at_utc AS ack_at,
            (SELECT to_jsonb(r) FROM (SELECT request_id, requested_by, reason, requested_at, expires_at
                                        FROM aol_proof_requests
                                       WHERE status = 'PENDING' AND expires_at > aol_now()
                                       ORDER BY requested_at DESC LIMIT 1) r) AS pending,
            (SELECT jsonb_agg(p ORDER BY p.started_at, p.pause_id)
               FROM (SELECT pause_id, action_types, aol_iso_ms(until_utc) AS until, reason, started_by,
                            aol_iso_ms(started_at_utc) AS started_at
                       FROM aol_scoped_pauses WHERE ended_at_utc IS NULL) p) AS scoped
       FROM aol_control_flags f CROSS JOIN aol_control_ack a WHERE f.id = 1`,
  );
  return rows[0];
}

export const toControlState = (r: ControlRow): ControlState => ({
  paused: r.paused,
  killed: r.killed,
  proofMode: r.proof_mode,
  version: r.version,
});

type RequestRow = {
  request_id: string;
  requested_by: string;
  expires_at: Date;
  status: ProofRequest['status'];
};

export async function selectProofRequest(
  db: Queryable,
  id: string,
): Promise<ProofRequest | undefined> {
  const { rows } = await db.query<RequestRow>(
    'SELECT request_id, requested_by, expires_at, status FROM aol_proof_requests WHERE request_id = $1',
    [id],
  );
  return rows[0];
}

export async function selectPendingRequest(db: Queryable): Promise<ProofRequest | undefined> {
  const { rows } = await db.query<RequestRow>(
    `SELECT request_id, requested_by, expires_at, status FROM aol_proof_requests WHERE status = 'PENDING' ORDER BY requested_at DESC LIMIT 1`,
  );
  return rows[0];
}

/** Health's clock: database time plus the drill offset (aol_clock). */
export async function selectNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ t: Date }>('SELECT aol_now() AS t');
  return rows[0].t;
}
