import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { Db } from './db.js';
import { packageRoot } from '../common/paths.js';

const MIGRATION_LOCK = 7310000;
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export type Migration = Readonly<{ version: number; name: string; sql: string; checksum: string }>;

export function loadMigrations(dir = join(packageRoot(), 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => FILE.test(f))
    .sort()
    .map((f) => {
      const [, v, name] = FILE.exec(f)!;
      const sql = readFileSync(join(dir, f), 'utf8');
      return {
        version: Number(v),
        name,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export class SchemaMismatchError extends Error {}

/**
 * Forward-only migrations, each in its own transaction, under a session
 * advisory lock so two processes starting at once apply each file once.
 */
export async function migrate(
  db: Db,
  log: (msg: string) => void = () => undefined,
): Promise<number[]> {
  const migrations = loadMigrations();
  return db.withClient((client) => applyAll(client, migrations, log));
}

async function applyAll(
  client: PoolClient,
  migrations: ReturnType<typeof loadMigrations>,
  log: (msg: string) => void,
): Promise<number[]> {
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS aol_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM aol_migrations');
    const done = new Set(rows.map((r) => r.version));
    const newest = migrations.at(-1)?.version ?? 0;
    const unknown = [...done].filter((v) => v > newest);
    if (unknown.length > 0) {
      throw new SchemaMismatchError(
        `database schema has migration ${Math.max(...unknown)}, newer than this build knows (${newest}); deploy the newer build`,
      );
    }
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        // From 0010 on, what a migration adds is handed to aol_owner with the
        // standard grants (docs/security.md), so no later file can forget it.
        if (m.version >= 10) await client.query('SELECT aol_secure_objects()');
        await client.query(
          'INSERT INTO aol_migrations (version, name, checksum) VALUES ($1, $2, $3)',
          [m.version, m.name, m.checksum],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.version);
      log(`applied migration ${String(m.version).padStart(4, '0')}_${m.name}`);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
  }
}

/** The API and the worker refuse to run on a schema other than their own. */
export async function assertSchemaCurrent(db: Db): Promise<void> {
  const newest = loadMigrations().at(-1)?.version ?? 0;
  const { rows: exists } = await db.query<{ t: string | null }>(
    `SELECT to_regclass('aol_migrations')::text AS t`,
  );
  let current = 0;
  if (exists[0].t !== null) {
    const { rows } = await db.query<{ v: number }>(
      'SELECT coalesce(max(version), 0) AS v FROM aol_migrations',
    );
    current = rows[0].v;
  }
  if (current < newest) {
    throw new SchemaMismatchError(
      `database schema is at migration ${current}, this build needs ${newest}: run \`aol migrate\` first`,
    );
  }
  if (current > newest) {
    throw new SchemaMismatchError(
      `database schema is at migration ${current}, newer than this build (${newest}); deploy the newer build`,
    );
  }
}
