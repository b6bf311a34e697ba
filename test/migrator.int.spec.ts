import { afterAll, describe, expect, it } from '@jest/globals';
import {
  assertSchemaCurrent,
  loadMigrations,
  migrate,
  SchemaMismatchError,
} from '../src/db/migrator.js';
import { Db } from '../src/db/db.js';
import { randomBytes } from 'node:crypto';
import { adminQuery, createTestDb, urlFor } from './support/db.js';

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

/**
 * Neon: the migrating role owns the database and may create roles, but is
 * not a superuser. `aol migrate` must work as that role, hand every object
 * to aol_owner, and leave the runbook working for an aol_operator login.
 */
describe('migrations as a non-superuser CREATEROLE database owner (Neon)', () => {
  it('migrates, hands the objects to aol_owner, and the runbook still records the true actor', async () => {
    const suffix = randomBytes(3).toString('hex');
    const owner = `aol_t_neon_owner_${suffix}`;
    const name = `aol_t_neon_${suffix}`;
    await adminQuery(`CREATE ROLE ${owner} LOGIN CREATEROLE NOSUPERUSER PASSWORD 'pw-${suffix}'`);
    await adminQuery(`CREATE DATABASE ${name} OWNER ${owner}`);
    const { rows: v } = await adminQuery(`SELECT current_setting('server_version_num')::int AS v`);
    // The AOL roles already exist in this cluster (the template's migration,
    // as a superuser, created them). On PostgreSQL 16+ a CREATEROLE role may
    // grant only roles it holds ADMIN on, which the role that creates them
    // has: give it what it would have had on a fresh Neon project.
    if (v[0].v >= 160000)
      await adminQuery(
        `GRANT aol_owner, aol_auditor, aol_operator, aol_admin, aol_service TO ${owner} WITH ADMIN OPTION`,
      );
    const u = new URL(urlFor(name));
    u.username = owner;
    u.password = `pw-${suffix}`;
    const db = new Db(u.toString(), { max: 2 });
    try {
      const { rows: su } = await db.query<{ s: boolean }>(
        `SELECT rolsuper AS s FROM pg_roles WHERE rolname = current_user`,
      );
      expect(su[0].s).toBe(false);
      expect((await migrate(db)).length).toBe(loadMigrations().length);
      const { rows: owners } = await db.query<{ o: string; n: number }>(
        `SELECT tableowner AS o, count(*)::int AS n FROM pg_tables
          WHERE tablename LIKE 'aol\\_%' AND tablename <> 'aol_migrations' GROUP BY 1`,
      );
      expect(owners).toEqual([{ o: 'aol_owner', n: expect.any(Number) }]);
      // the owner may run the API and worker too (Neon's default URL), as the service
      const { rows: m } = await db.query<{ s: boolean; o: boolean }>(
        `SELECT pg_has_role(current_user, 'aol_service', 'MEMBER') AS s,
                pg_has_role(current_user, 'aol_owner', 'MEMBER') AS o`,
      );
      expect(m[0]).toEqual({ s: true, o: true });
      const op = `aol_t_neon_op_${suffix}`;
      await db.query(`CREATE ROLE ${op} LOGIN PASSWORD 'pw-${suffix}' IN ROLE aol_operator`);
      u.username = op;
      const opDb = new Db(u.toString(), { max: 1 });
      try {
        await opDb.query('UPDATE aol_control_flags SET paused = true WHERE id = 1;');
        await expect(
          opDb.query(
            `BEGIN; SET LOCAL aol.projecting = 'on'; UPDATE aol_control_flags SET killed = true WHERE id = 1; COMMIT;`,
          ),
        ).resolves.toBeDefined();
      } finally {
        await opDb.close();
      }
      const { rows } = await db.query(
        `SELECT type, metadata->>'actor' AS actor, metadata->>'via' AS via FROM aol_events ORDER BY seq DESC LIMIT 2`,
      );
      expect(rows).toEqual([
        { type: 'ControlKilled', actor: op, via: 'sql' },
        { type: 'ControlPaused', actor: op, via: 'sql' },
      ]);
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
