import { Queryable } from '../db/db.js';
import { ControlState } from './control.decider.js';

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
}>;

export async function selectControl(db: Queryable): Promise<ControlRow> {
  const { rows } = await db.query<ControlRow>(
    `SELECT f.paused, f.killed, f.proof_mode, f.version, f.updated_at_utc,
            a.control_version AS ack_version, a.worker AS ack_worker, a.delay_ms AS ack_delay_ms,
            a.acknowledged_at_utc AS ack_at
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
