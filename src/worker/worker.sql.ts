import { Queryable } from '../db/db.js';

export type ClaimedAction = Readonly<{
  id: number;
  action_type: string;
  payload: unknown;
  idempotency_key: string;
  attempt: number;
  /** The attempt's effective proof mode, decided by the claim: AOL_PROOF_MODE OR the flag as of the claim. */
  proof_mode: boolean;
}>;

/** An outcome's write: 'ok' (recorded), 'fenced' (lease lost; the rejection recorded) or 'stale' (no longer RUNNING under this epoch). */
export type OutcomeWrite = 'ok' | 'fenced' | 'stale';

export type OutcomeItem = Readonly<{ id: number; type: string; data: object }>;

/** What aol_record_and_claim answers: each outcome's write, the claimed batch, or fenced. */
export type RecordAndClaim = Readonly<{
  fenced: boolean;
  written: Map<number, OutcomeWrite>;
  claimed: ClaimedAction[];
}>;

/**
 * Record the previous batch's outcomes and claim up to `limit` more (0:
 * record only) in one statement, behind one fence (aol_record_and_claim):
 * the claim checks pause, kill, scoped pauses and proof mode in it.
 */
export async function recordAndClaim(
  db: Queryable,
  owner: string,
  epoch: number,
  items: readonly OutcomeItem[],
  limit: number,
  envProof: boolean,
): Promise<RecordAndClaim> {
  const { rows } = await db.query<
    ClaimedAction & { kind: 'outcome' | 'claimed' | 'fenced'; result: OutcomeWrite }
  >('SELECT * FROM aol_record_and_claim($1, $2, $3, $4, $5)', [
    owner,
    epoch,
    JSON.stringify(items),
    limit,
    envProof,
  ]);
  const written = new Map<number, OutcomeWrite>();
  const claimed: ClaimedAction[] = [];
  let fenced = false;
  for (const { kind, result, ...a } of rows) {
    if (kind === 'outcome') written.set(a.id, result);
    else if (kind === 'claimed') claimed.push(a);
    else fenced = true;
  }
  return { fenced, written, claimed };
}

export async function recoverOrphans(
  db: Queryable,
  owner: string,
  epoch: number,
  idempotentTypes: string[],
  maxAttempts: number,
) {
  const { rows } = await db.query<{ id: number; status: string }>(
    'SELECT * FROM aol_recover_orphans($1, $2, $3, $4)',
    [owner, epoch, idempotentTypes, maxAttempts],
  );
  return rows;
}

export async function ackControl(
  db: Queryable,
  owner: string,
  epoch: number,
  version: number,
): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT aol_ack_control($1, $2, $3) AS ok', [
    owner,
    epoch,
    version,
  ]);
  return rows[0].ok;
}

export async function recordTick(
  db: Queryable,
  owner: string,
  epoch: number,
  data: object,
): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT aol_record_tick($1, $2, $3) AS ok', [
    owner,
    epoch,
    JSON.stringify(data),
  ]);
  return rows[0].ok;
}

/** End the scoped pauses whose deadline has passed (database clock); the claim does this too, in its statement. */
export async function expireScopedPauses(db: Queryable, owner: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT aol_expire_scoped_pauses($1) AS n', [
    owner,
  ]);
  return rows[0].n;
}
