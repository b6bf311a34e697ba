import pg from 'pg';

// int8 (seq, epoch, ids) as JS numbers: they stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * A statement with a name: each connection parses and plans it once and then
 * only binds and executes it. For the statements that run all the time
 * (a follower's re-read, health's inputs), where planning cost more than
 * running (docs/benchmarks.md §1). A fresh object per call: pg writes the
 * values into the one it is given.
 */
export type NamedQuery = { name: string; text: string; values?: unknown[] };

/** Anything that runs a parameterised query: the pool (Db) or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string | NamedQuery,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

type Checkout = { client: pg.PoolClient; broken: Error | undefined; release: () => void };

/** SQLSTATEs worth retrying a whole transaction for. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * The process's connection pool. `tx()` runs a function in one transaction and
 * retries it on a deadlock or serialization failure, which a runbook UPDATE
 * racing a projection write can cause (Postgres aborts one of the two).
 */
export class Db {
  readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    opts: { max?: number; applicationName?: string; connectTimeoutMs?: number } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      // Also how long a checkout waits for a free client when all are busy;
      // past it pg-pool fails with "timeout exceeded when trying to connect",
      // which the API answers with 503 + Retry-After (common/unavailable.ts).
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      application_name: opts.applicationName ?? 'aol',
    });
    // An idle client losing its connection (database restart) must not crash
    // the process; the pool replaces it on the next checkout.
    this.pool.on('error', () => undefined);
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string | NamedQuery,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, values);
  }

  /**
   * Check a client out with an 'error' listener of ours attached at once. A
   * checked-out client has no listener of the pool's: if its connection dies
   * (a database restart: 57P01, a reset socket) it emits 'error', which
   * without a listener kills the process. The listener must be attached in
   * pg-pool's callback itself, not after `await pool.connect()`: a client
   * handed over from another's release can receive the FATAL message in the
   * same socket read, before an awaiting caller resumes. A client that
   * errored is destroyed on release instead of returning to the pool; the
   * caller's promise carries the error (→ 503 in the API).
   */
  private checkout(): Promise<Checkout> {
    return new Promise((resolve, reject) => {
      this.pool.connect((err, client) => {
        if (err || !client) return reject(err ?? new Error('no client'));
        const c: Checkout = {
          client,
          broken: undefined,
          release: () => {
            // A broken client keeps our listener: it is destroyed, and may
            // still report its socket's end while it goes.
            if (!c.broken) client.removeListener('error', onError);
            client.release(c.broken);
          },
        };
        const onError = (e: Error) => (c.broken ??= e);
        client.on('error', onError);
        resolve(c);
      });
    });
  }

  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.checkout();
      try {
        await c.client.query('BEGIN');
        const result = await fn(c.client);
        await c.client.query('COMMIT');
        return result;
      } catch (err) {
        await c.client.query('ROLLBACK').catch((e: Error) => (c.broken ??= e));
        if (!c.broken && attempt < 5 && RETRYABLE.has((err as { code?: string }).code ?? ''))
          continue;
        throw err;
      } finally {
        c.release();
      }
    }
  }

  /** A checked-out client for a session-level job (the migrator's advisory lock), guarded as in tx(). */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.checkout();
    try {
      return await fn(c.client);
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Retry connecting until the database answers or `seconds` have passed. */
export async function waitForDatabase(
  db: Db,
  seconds: number,
  log: (msg: string) => void,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(
          `database unreachable after ${seconds}s (DB_STARTUP_RETRY_SECS): ${(err as Error).message}`,
        );
      }
      log(`database not reachable yet (attempt ${attempt}): ${(err as Error).message}; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}
