import pg from 'pg';

// int8 (seq, epoch, ids) as JS numbers: they stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** Anything that runs a parameterised query: the pool (Db) or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

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
    opts: { max?: number; applicationName?: string } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: 5000,
      application_name: opts.applicationName ?? 'aol',
    });
    // An idle client losing its connection (database restart) must not crash
    // the process; the pool replaces it on the next checkout.
    this.pool.on('error', () => undefined);
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, values);
  }

  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (attempt < 5 && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
        throw err;
      } finally {
        client.release();
      }
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
