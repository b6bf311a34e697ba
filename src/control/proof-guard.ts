import { Queryable } from '../db/db.js';
import { selectControl } from './control.sql.js';

/** What the production proof-mode guard looks at when a worker starts. */
export type ProofGuardInputs = Readonly<{
  /** NODE_ENV=production. */
  production: boolean;
  /** AOL_PROOF_MODE: true forces proof mode whatever the flag says. */
  envProofMode: boolean;
  /** The proof-mode flag now. */
  flagProofMode: boolean;
  /** The request id the last ProofModeDisabled carries (an approved four-eyes change), if any. */
  lastDisableRequestId: string | null;
}>;

export const PROOF_GUARD_REFUSAL =
  'refusing to start: NODE_ENV=production with AOL_PROOF_MODE=false needs proof mode turned off through an approved four-eyes change ' +
  '(aol proof off, then a second admin: aol proof approve <request-id>); or set AOL_PROOF_MODE=true';

/**
 * In production a worker with AOL_PROOF_MODE=false would make real calls as
 * soon as the flag is off. It may start only when the flag was turned off
 * through an approved four-eyes change (the last ProofModeDisabled carries the
 * approved request id).
 */
export function decideWorkerStart(i: ProofGuardInputs): { ok: true } | { refused: string } {
  if (!i.production || i.envProofMode) return { ok: true };
  if (!i.flagProofMode && i.lastDisableRequestId) return { ok: true };
  return { refused: PROOF_GUARD_REFUSAL };
}

/** The guard's inputs from the database (the flag and the last ProofModeDisabled). */
export async function selectProofGuardInputs(
  db: Queryable,
  env: Readonly<{ production: boolean; proofMode: boolean }>,
): Promise<ProofGuardInputs> {
  const flags = await selectControl(db);
  const { rows } = await db.query<{ request_id: string | null }>(
    `SELECT data->>'request_id' AS request_id FROM aol_events
      WHERE stream = 'control' AND type = 'ProofModeDisabled' ORDER BY seq DESC LIMIT 1`,
  );
  return {
    production: env.production,
    envProofMode: env.proofMode,
    flagProofMode: flags.proof_mode,
    lastDisableRequestId: rows[0]?.request_id ?? null,
  };
}

/** Throws the refusal when a worker may not start (see decideWorkerStart). */
export async function assertProductionProofGuard(
  db: Queryable,
  env: Readonly<{ production: boolean; proofMode: boolean }>,
): Promise<void> {
  if (!env.production || env.proofMode) return;
  const d = decideWorkerStart(await selectProofGuardInputs(db, env));
  if ('refused' in d) throw new Error(d.refused);
}
