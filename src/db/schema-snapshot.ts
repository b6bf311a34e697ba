import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * The committed snapshot (sql/schema.snapshot.sql) is `pg_dump --schema-only`
 * of a freshly migrated database on PostgreSQL 15, normalised. pg_dump's text
 * differs between major versions, so the check runs only where server and
 * pg_dump are both this major version (CI: the PostgreSQL 15 step).
 */
export const SNAPSHOT_MAJOR = 15;

/**
 * pg_dump's text without what varies from run to run or says nothing about
 * the schema: comment lines, SET/set_config lines, \restrict keys, runs of
 * blank lines; the GRANT/REVOKE lines of one object's ACL are sorted, since
 * their order is the order the grants were made in, not a difference.
 */
export function normaliseDump(text: string): string {
  const out: string[] = [];
  let acl: string[] = [];
  const flush = () => {
    out.push(...acl.sort());
    acl = [];
  };
  for (const line of text.split('\n')) {
    if (
      line.startsWith('--') ||
      line.startsWith('SET ') ||
      line.startsWith('SELECT pg_catalog.set_config(') ||
      line.startsWith('\\restrict') ||
      line.startsWith('\\unrestrict')
    )
      continue;
    if (line.startsWith('GRANT ') || line.startsWith('REVOKE ')) {
      acl.push(line);
      continue;
    }
    flush();
    if (line.trim() === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line.trimEnd());
  }
  flush();
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}

function majorOf(versionText: string): number {
  const m = /(\d+)(?:\.\d+)?/.exec(versionText);
  return m ? Number(m[1]) : NaN;
}

/** `pg_dump --schema-only` of the database at url, normalised; refuses a version other than SNAPSHOT_MAJOR. */
export async function dumpSchema(url: string, pgDump = pgDumpPath()): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let server: number;
  try {
    const { rows } = await client.query<{ v: string }>(
      `SELECT current_setting('server_version_num') AS v`,
    );
    server = Math.floor(Number(rows[0].v) / 10000);
  } finally {
    await client.end();
  }
  const { stdout: version } = await run(pgDump, ['--version']);
  const tool = majorOf(version.replace(/^[^\d]*/, ''));
  if (server !== SNAPSHOT_MAJOR || tool !== SNAPSHOT_MAJOR) {
    throw new SnapshotVersionError(
      `the schema snapshot is taken with pg_dump ${SNAPSHOT_MAJOR} against PostgreSQL ${SNAPSHOT_MAJOR}; ` +
        `this server is ${server} and ${pgDump} is ${tool} (set AOL_PG_DUMP, or run against a PostgreSQL ${SNAPSHOT_MAJOR} server)`,
    );
  }
  const { stdout } = await run(pgDump, ['--schema-only', '--dbname', url], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return normaliseDump(stdout);
}

export class SnapshotVersionError extends Error {}

export function pgDumpPath(): string {
  return process.env.AOL_PG_DUMP ?? '/usr/bin/pg_dump';
}

/** A unified diff of the committed snapshot (expected) and the migrated schema (actual); '' if equal. */
export async function diffSnapshots(expected: string, actual: string): Promise<string> {
  if (expected === actual) return '';
  const dir = mkdtempSync(join(tmpdir(), 'aol-schema-'));
  try {
    const a = join(dir, 'schema.snapshot.sql');
    const b = join(dir, 'migrated.sql');
    writeFileSync(a, expected);
    writeFileSync(b, actual);
    try {
      await run('diff', ['-u', '--label', 'sql/schema.snapshot.sql', '--label', 'migrated', a, b], {
        maxBuffer: 64 * 1024 * 1024,
      });
      return '';
    } catch (err) {
      const e = err as { code?: number; stdout?: string };
      if (e.code === 1 && e.stdout) return e.stdout;
      throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readSnapshot(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
