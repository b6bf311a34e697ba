import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../src/common/paths.js';
import { SNAPSHOT_MAJOR } from '../src/db/schema-snapshot.js';
import { adminQuery, createTestDb } from './support/db.js';

const run = promisify(execFile);

/** `node scripts/schema.mjs check --database <url>` (the check CI runs, on one database): exit code and output. */
async function check(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(
      'node',
      [join(packageRoot(), 'scripts', 'schema.mjs'), 'check', '--database', url],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * The committed snapshot (sql/schema.snapshot.sql) is what a fresh migrate
 * produces, and the check fails, with the diff, once the schema drifts. The
 * snapshot is pg_dump 15's text, so on another server (the embedded
 * PostgreSQL 18) the check must refuse to compare, with exit code 2.
 */
describe('schema snapshot check', () => {
  it('passes on a freshly migrated database and fails with a diff once a column is added', async () => {
    const t = await createTestDb('schema_check');
    try {
      const { rows } = await adminQuery(
        `SELECT current_setting('server_version_num')::int / 10000 AS v`,
      );
      if (rows[0].v !== SNAPSHOT_MAJOR) {
        const r = await check(t.url);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`taken with pg_dump ${SNAPSHOT_MAJOR} against PostgreSQL ${SNAPSHOT_MAJOR}`),
        );
        return;
      }
      const clean = await check(t.url);
      expect(clean).toMatchObject({ code: 0, stdout: 'schema matches sql/schema.snapshot.sql\n' });
      await t.db.query('ALTER TABLE aol_actions ADD COLUMN drifted integer');
      const drifted = await check(t.url);
      expect(drifted.code).toBe(1);
      expect(drifted.stdout).toMatch(/^--- sql\/schema\.snapshot\.sql\n\+\+\+ migrated\n/);
      expect(drifted.stdout).toMatch(/^ {5}epoch bigint,\n\+ {4}drifted integer,$/m);
      expect(drifted.stderr).toMatch(/npm run schema:update/);
    } finally {
      await t.db.close();
    }
  });
});
