import { afterAll, describe, expect, it } from '@jest/globals';
import {
  assertSchemaCurrent,
  ChecksumMismatchError,
  loadHistoricalChecksums,
  loadMigrations,
  migrate,
  SchemaMismatchError,
} from '../src/db/migrator.js';
import { Db } from '../src/db/db.js';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/common/paths.js';
import { catalog } from './support/catalog.js';
import { adminQuery, createTestDb, urlFor } from './support/db.js';
import { liveAndFolded } from './support/roles.js';

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

/** A copy of migrations/ to change, removed after the test. */
function migrationsCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aol-migrations-'));
  cpSync(join(packageRoot(), 'migrations'), dir, { recursive: true });
  return dir;
}

describe('applied migrations are forward-only (checksums)', () => {
  const dbs: Db[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.close()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses an applied migration whose file changed, naming the version, and changes nothing', async () => {
    const t = await createTestDb('migrate_changed');
    dbs.push(t.db);
    const dir = migrationsCopy();
    dirs.push(dir);
    appendFileSync(join(dir, '0011_checkpoints.sql'), '\n-- an edit after the fact\n');
    const before = await catalog(t.db);
    const err = await migrate(t.db, undefined, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as Error).message).toMatch(
      /^migration 0011_checkpoints was changed after it was applied: the database recorded checksum [0-9a-f]{64}, migrations\/0011_checkpoints.sql now has [0-9a-f]{64}\. Migrations are forward-only/,
    );
    expect(await catalog(t.db)).toEqual(before);
    // the unchanged files still migrate
    expect(await migrate(t.db)).toEqual([]);
  });

  it("accepts a version's historical checksum for that version only", async () => {
    const t = await createTestDb('migrate_history');
    dbs.push(t.db);
    const history = loadHistoricalChecksums();
    const old5 = [...history.get(5)!][0];
    await t.db.query('UPDATE aol_migrations SET checksum = $1 WHERE version = 5', [old5]);
    expect(await migrate(t.db)).toEqual([]);
    await t.db.query('UPDATE aol_migrations SET checksum = $1 WHERE version = 6', [old5]);
    await expect(migrate(t.db)).rejects.toThrow(
      /^migration 0006_operations was changed after it was applied/,
    );
  });

  it('tolerates a migration that still holds a FUNCTIONS block: applied after the area files, on every migrate', async () => {
    const t = await createTestDb('migrate_block', { empty: true });
    dbs.push(t.db);
    const dir = migrationsCopy();
    dirs.push(dir);
    writeFileSync(
      join(dir, '0099_probe.sql'),
      `CREATE TABLE aol_probe (id integer PRIMARY KEY);
-- BEGIN FUNCTIONS probe
CREATE OR REPLACE FUNCTION aol_probe_count() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM aol_probe
$$;
DROP TRIGGER IF EXISTS aol_probe_guard ON aol_probe;
CREATE TRIGGER aol_probe_guard AFTER INSERT OR UPDATE OR DELETE ON aol_probe
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();
-- END FUNCTIONS probe
INSERT INTO aol_probe VALUES (1);
`,
    );
    const versions = readdirSync(dir).filter((f) => /^\d{4}_/.test(f)).length;
    expect(await migrate(t.db, undefined, { migrationsDir: dir })).toHaveLength(versions);
    expect(await migrate(t.db, undefined, { migrationsDir: dir })).toEqual([]);
    const { rows } = await t.db.query<{ n: string; owner: string; definer: boolean }>(
      `SELECT aol_probe_count()::text AS n, pg_get_userbyid(proowner) AS owner, prosecdef AS definer
         FROM pg_proc WHERE proname = 'aol_probe_count'`,
    );
    expect(rows).toEqual([{ n: '1', owner: 'aol_owner', definer: true }]);
    await expect(t.db.query('INSERT INTO aol_probe VALUES (2)')).rejects.toThrow(/read model/);
  });
});

/**
 * A database migrated before issue 14 (the functions in the migrations, as
 * at d8a1392, by the migrator of that time) is upgraded by the new layout to
 * exactly the schema a fresh database gets, and keeps its data.
 */
describe('upgrade from the pre-issue-14 migrations', () => {
  const OLD = 'd8a1392';
  const dbs: Db[] = [];
  afterAll(() => Promise.all(dbs.map((d) => d.close())));

  function oldFiles(): { version: number; name: string; text: string }[] {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: packageRoot(), encoding: 'utf8', maxBuffer: 1 << 24 });
    return git('ls-tree', '--name-only', `${OLD}:migrations`)
      .split('\n')
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort()
      .map((f) => ({
        version: Number(f.slice(0, 4)),
        name: f.slice(5, -4),
        text: git('show', `${OLD}:migrations/${f}`),
      }));
  }

  it('ends with the schema of a fresh database, accepts the old checksums, and the read models still equal a rebuild', async () => {
    const old = oldFiles();
    // migrations added after issue 14 (0016 on) are simply pending for such a database
    const later = loadMigrations().filter((m) => m.version > old.at(-1)!.version);
    expect(old.map((f) => f.version)).toEqual(
      loadMigrations()
        .filter((m) => m.version <= old.at(-1)!.version)
        .map((m) => m.version),
    );
    const t = await createTestDb('migrate_upgrade', { empty: true });
    dbs.push(t.db);
    // the migrator of that time: each file in its own transaction, then aol_secure_objects() from 0010 on
    await t.db.withClient(async (c) => {
      await c.query(`CREATE TABLE aol_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const f of old) {
        await c.query('BEGIN');
        await c.query(f.text);
        if (f.version >= 10) await c.query('SELECT aol_secure_objects()');
        await c.query('INSERT INTO aol_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          f.version,
          f.name,
          createHash('sha256').update(f.text).digest('hex'),
        ]);
        await c.query('COMMIT');
      }
    });
    // some history written by the old functions
    await t.db.query(`UPDATE aol_control_flags SET paused = true WHERE id = 1`);
    await t.db
      .query(`SELECT aol_append('action:' || nextval('aol_action_id_seq'), 0, 'ActionEnqueued',
      '{"idempotency_key": "k1", "action_type": "webhook", "payload": {}, "not_before": "2026-01-01T00:00:00Z"}',
      '{"actor": "t", "via": "api"}')`);
    const oldCatalog = await catalog(t.db);

    expect(await migrate(t.db)).toEqual(later.map((m) => m.version));
    const fresh = await createTestDb('migrate_upgrade_fresh', { empty: true });
    dbs.push(fresh.db);
    await migrate(fresh.db);
    const upgraded = await catalog(t.db);
    expect(upgraded).toEqual(await catalog(fresh.db));
    // the functions removed on purpose (issue 14: aol_action_outcome; issue 17:
    // aol_action_outcomes and aol_claim, folded into aol_record_and_claim;
    // aol_projecting, written out in the triggers' WHEN);
    // every other one is still there
    const names = (fs: string[]) => new Set(fs.map((f) => /FUNCTION public\.(\w+)/.exec(f)![1]));
    const now = names(upgraded.functions);
    expect([...names(oldCatalog.functions)].filter((n) => !now.has(n))).toEqual([
      'aol_action_outcome',
      'aol_action_outcomes',
      'aol_claim',
      'aol_projecting',
    ]);
    const { live, folded } = await liveAndFolded(t.db);
    expect(folded).toEqual(live);
    expect(live.aol_control_flags).toMatchObject([{ paused: true }]);
    expect(live.aol_actions).toMatchObject([{ idempotency_key: 'k1', status: 'PENDING' }]);
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
