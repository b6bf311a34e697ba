import { Queryable } from '../db/db.js';
import { Via } from '../events/event.types.js';
import { mapDbError } from '../db/db-errors.js';

/**
 * Production-ness lives in the database (aol_deployment, migration 0010), so
 * four-eyes and the absent test clock hold for every door, not only for the
 * processes that read NODE_ENV. `aol migrate`, the API and the worker record
 * it (ProductionModeEntered) when they run with NODE_ENV=production; only an
 * admin clears it (ProductionModeCleared).
 */
export async function markProduction(db: Queryable, via: Via): Promise<boolean> {
  const { rows } = await db.query<{ changed: boolean }>(
    'SELECT aol_mark_production($1) AS changed',
    [via],
  );
  return rows[0].changed;
}

export async function clearProduction(db: Queryable, reason: string, via: Via): Promise<boolean> {
  try {
    const { rows } = await db.query<{ changed: boolean }>(
      'SELECT aol_clear_production($1, $2) AS changed',
      [reason, via],
    );
    return rows[0].changed;
  } catch (err) {
    throw mapDbError(err);
  }
}

export async function isProduction(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ p: boolean }>('SELECT aol_is_production() AS p');
  return rows[0].p;
}

/**
 * Records ProofModeDisableExpired when a request's 15 minutes run out, rather
 * than when someone next looks: the API and the worker each sweep once a
 * second (a lookup on the pending-requests index; the append lock only when
 * something expired). Several sweepers are harmless: the sweep runs under the
 * append lock and each request expires once.
 */
export class ProofExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: Queryable,
    private readonly actor: () => string,
    private readonly via: Via,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Returns how many requests expired; a database error is left to the next sweep. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const { rows } = await this.db.query<{ n: number }>(
        'SELECT aol_expire_proof_requests($1::jsonb) AS n',
        [JSON.stringify({ actor: this.actor(), via: this.via })],
      );
      return rows[0].n;
    } catch {
      return 0;
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
