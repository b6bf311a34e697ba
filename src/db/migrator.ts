import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { Db } from './db.js';
import { packageRoot } from '../common/paths.js';

const MIGRATION_LOCK = 7310000;
/** The append lock (aol_append_raw): held while triggers are replaced, so no append runs meanwhile. */
const APPEND_LOCK = 7310001;
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/**
 * A function block a migration may still hold until it is moved into its
 * area file (sql/functions/README.md): cut out of the migration and applied
 * after the area files, on every migrate.
 */
const BLOCK = /^-- BEGIN FUNCTIONS ([a-z0-9_-]+)[ \t]*\r?\n([\s\S]*?)^-- END FUNCTIONS \1[ \t]*$/gm;

/**
 * The function files, in the order they are applied: each area's file may
 * use (in LANGUAGE sql bodies and trigger definitions) what an earlier one
 * defines. roles.sql is last: it grants on everything before it.
 */
export const FUNCTION_AREAS = [
  'events',
  'control',
  'lease',
  'ticks',
  'actions',
  'schedules',
  'health',
  'workers',
  'history',
  'roles',
] as const;

export type Migration = Readonly<{
  version: number;
  name: string;
  /** The migration without its FUNCTIONS blocks: what runs once. */
  sql: string;
  /** Its FUNCTIONS blocks, applied after the area files on every migrate. */
  functions: readonly string[];
  /** sha256 of the whole file as committed. */
  checksum: string;
}>;

export type FunctionFile = Readonly<{ area: string; path: string; sql: string }>;

export function loadMigrations(dir = join(packageRoot(), 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => FILE.test(f))
    .sort()
    .map((f) => {
      const [, v, name] = FILE.exec(f)!;
      const text = readFileSync(join(dir, f), 'utf8');
      const functions = [...text.matchAll(BLOCK)].map((b) => b[2]);
      return {
        version: Number(v),
        name,
        sql: text.replace(BLOCK, ''),
        functions,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

/** sql/functions/<area>.sql in FUNCTION_AREAS order; a file not in the list is an error, not skipped. */
export function loadFunctionFiles(dir = join(packageRoot(), 'sql', 'functions')): FunctionFile[] {
  const known = new Set<string>(FUNCTION_AREAS);
  const stray = readdirSync(dir).filter((f) => f.endsWith('.sql') && !known.has(f.slice(0, -4)));
  if (stray.length > 0) {
    throw new Error(
      `${stray.join(', ')} in ${dir} is not in FUNCTION_AREAS (src/db/migrator.ts): add it there, in dependency order`,
    );
  }
  return FUNCTION_AREAS.filter((a) => existsSync(join(dir, `${a}.sql`))).map((area) => ({
    area,
    path: `sql/functions/${area}.sql`,
    sql: readFileSync(join(dir, `${area}.sql`), 'utf8'),
  }));
}

/**
 * Checksums of migration files as they were committed before they were
 * rewritten (migrations/CHECKSUMS): a database migrated with one of those
 * texts is accepted. Version → accepted checksums.
 */
export function loadHistoricalChecksums(
  file = join(packageRoot(), 'migrations', 'CHECKSUMS'),
): Map<number, Set<string>> {
  const accepted = new Map<number, Set<string>>();
  if (!existsSync(file)) return accepted;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d{4})\s+([0-9a-f]{64})\b/.exec(line.trim());
    if (!m) continue;
    const v = Number(m[1]);
    if (!accepted.has(v)) accepted.set(v, new Set());
    accepted.get(v)!.add(m[2]);
  }
  return accepted;
}

export class SchemaMismatchError extends Error {}
export class ChecksumMismatchError extends SchemaMismatchError {}

export type MigrateOptions = Readonly<{
  migrationsDir?: string;
  functionsDir?: string;
  checksumsFile?: string;
}>;

/**
 * Forward-only migrations, then the function files (sql/functions/, each
 * object's one current definition, applied idempotently on every migrate),
 * then the migrations' FUNCTIONS blocks, then aol_secure_objects() — all in
 * one transaction, under a session advisory lock so two processes starting at
 * once apply each file once. An applied migration whose file changed is
 * refused, unless its recorded checksum is one of migrations/CHECKSUMS.
 */
export async function migrate(
  db: Db,
  log: (msg: string) => void = () => undefined,
  opts: MigrateOptions = {},
): Promise<number[]> {
  const migrations = loadMigrations(opts.migrationsDir);
  const functions = loadFunctionFiles(opts.functionsDir);
  const history = loadHistoricalChecksums(opts.checksumsFile);
  return db.withClient((client) => applyAll(client, migrations, functions, history, log));
}

async function applyAll(
  client: PoolClient,
  migrations: Migration[],
  functions: FunctionFile[],
  history: Map<number, Set<string>>,
  log: (msg: string) => void,
): Promise<number[]> {
  const applied: Migration[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS aol_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM aol_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const newest = migrations.at(-1)?.version ?? 0;
    const unknown = [...done.keys()].filter((v) => v > newest);
    if (unknown.length > 0) {
      throw new SchemaMismatchError(
        `database schema has migration ${Math.max(...unknown)}, newer than this build knows (${newest}); deploy the newer build`,
      );
    }
    for (const m of migrations) {
      const recorded = done.get(m.version);
      if (recorded === undefined || recorded === m.checksum) continue;
      if (history.get(m.version)?.has(recorded)) continue;
      throw new ChecksumMismatchError(
        `migration ${label(m)} was changed after it was applied: the database recorded checksum ${recorded}, ` +
          `migrations/${label(m)}.sql now has ${m.checksum}. Migrations are forward-only: restore the file and put the change in a new migration`,
      );
    }
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await run(client, m.sql, `migration ${label(m)}`);
        await client.query(
          'INSERT INTO aol_migrations (version, name, checksum) VALUES ($1, $2, $3)',
          [m.version, m.name, m.checksum],
        );
        applied.push(m);
      }
      for (const f of functions) await run(client, f.sql, f.path);
      for (const m of migrations) {
        for (const block of m.functions) {
          await run(client, block, `the FUNCTIONS block of migration ${label(m)}`);
        }
      }
      // What the files (re)created is handed to aol_owner with the standard
      // grants (docs/security.md): CREATE OR REPLACE resets SECURITY DEFINER.
      await run(client, 'SELECT aol_secure_objects()', 'aol_secure_objects()');
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
    for (const m of applied) log(`applied migration ${label(m)}`);
    return applied.map((m) => m.version);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
  }
}

function label(m: Migration): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}

async function run(client: PoolClient, sql: string, what: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (err) {
    throw new Error(`${what} failed: ${(err as Error).message}`);
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
