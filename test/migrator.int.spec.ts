import { afterAll, describe, expect, it } from '@jest/globals';
import {
  assertSchemaCurrent,
  loadMigrations,
  migrate,
  SchemaMismatchError,
} from '../src/db/migrator.js';
import { Db } from '../src/db/db.js';
import { createTestDb } from './support/db.js';

describe('migrations', () => {
  const dbs: Db[] = [];
  afterAll(() => Promise.all(dbs.map((d) => d.close())));

  it('two processes migrating at once apply each migration exactly once', async () => {
    const t = await createTestDb('migrate_race', { empty: true });
    const a = new Db(t.url, { max: 1 });
    const b = new Db(t.url, { max: 1 });
    dbs.push(t.db, a, b);
    await expect(assertSchemaCurrent(t.db)).rejects.toThrow(/run `aol migrate`/);
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    const all = loadMigrations().map((m) => m.version);
    expect([...ra, ...rb].sort((x, y) => x - y)).toEqual(all);
    const { rows } = await t.db.query('SELECT version FROM aol_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(all);
    const events = await t.db.query('SELECT count(*)::int AS n FROM aol_events');
    expect(events.rows[0].n).toBe(1);
    await expect(assertSchemaCurrent(t.db)).resolves.toBeUndefined();
    expect(await migrate(t.db)).toEqual([]);
  });

  it('refuses a schema newer than the build', async () => {
    const t = await createTestDb('migrate_newer');
    dbs.push(t.db);
    await t.db.query(
      `INSERT INTO aol_migrations (version, name, checksum) VALUES (9999, 'future', 'x')`,
    );
    await expect(assertSchemaCurrent(t.db)).rejects.toBeInstanceOf(SchemaMismatchError);
    await expect(migrate(t.db)).rejects.toThrow(/newer than this build/);
  });
});
