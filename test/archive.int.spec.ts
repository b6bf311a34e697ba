import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/db/migrator.js';
import { Db } from '../src/db/db.js';
import { canonicalManifest, Manifest } from '../src/events/archive.js';
import { generateSigningKeyPair, parsePrivateKey, signManifest } from '../src/common/signing.js';
import { adminQuery, createTestDb, TestDb } from './support/db.js';
import { runCli } from './support/processes.js';
import { createLoginRole, LoginRole } from './support/roles.js';

/**
 * Issue 15, archiving without breaking the chain: on a log partitioned every
 * 10 seqs, `aol events archive` moves whole partitions to NDJSON segments
 * with a signed manifest, records LogSegmentArchived and drops them; verify
 * --archive proves archive + live as one chain and names the seq of an
 * altered segment or manifest; replay reads the archive; nothing but the
 * admin's archive function removes a live row.
 */
const key = generateSigningKeyPair();
const attacker = generateSigningKeyPair();
const root = mkdtempSync(join(tmpdir(), 'aol-archive-'));
const dir = join(root, 'archive');

type VerifyOut = {
  ok: boolean;
  first_bad_seq: number | null;
  problem?: string;
  mode: string;
  checked: number;
  unchecked: string[];
  archive?: { checked: number; last_seq: number };
};

describe('aol events archive', () => {
  let t: TestDb;
  let db: Db;
  let env: Record<string, string>;
  let op: LoginRole;
  let svc: LoginRole;
  let aud: LoginRole;
  let adm: LoginRole;
  const before: Record<number, unknown> = {};

  const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runCli(args, { ...env, ...extra });
  const verify = async (args: string[]) => {
    const r = await cli(['events', 'verify', '--json', '--public-key', key.publicKey, ...args]);
    return { code: r.code, r: JSON.parse(r.stdout) as VerifyOut, stderr: r.stderr };
  };
  const replay = async (until: number, archive?: string) => {
    const r = await cli([
      'events',
      'replay',
      '--json',
      '--until',
      String(until),
      ...(archive ? ['--archive', archive] : []),
    ]);
    return { code: r.code, state: r.code === 0 ? (JSON.parse(r.stdout) as unknown) : r.stderr };
  };

  beforeAll(async () => {
    t = await createTestDb('archive', { empty: true });
    await adminQuery(`ALTER DATABASE ${t.name} SET aol.events_partition_rows = 10`);
    db = new Db(t.url, { max: 4 });
    await migrate(db);
    env = { DATABASE_URL: t.url, AOL_SIGNING_KEY: key.signingKey };
    // 36 events: flips of the flags (projected, so a replay has something to show)
    for (let i = 0; i < 35; i++)
      await db.query('UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1');
    for (const s of [5, 10, 25]) before[s] = (await replay(s)).state;
    op = await createLoginRole(t, 'arc_op', ['aol_operator']);
    svc = await createLoginRole(t, 'arc_svc', ['aol_service']);
    aud = await createLoginRole(t, 'arc_aud', ['aol_auditor']);
    adm = await createLoginRole(t, 'arc_adm', ['aol_admin']);
  }, 120000);
  afterAll(async () => {
    await Promise.all([op, svc, aud, adm].map((r) => r?.db.close()));
    await db?.close();
    await t?.db.close();
  });

  it('keeps partitions ready ahead of the head, one every 10 seqs', async () => {
    const { rows } = await db.query<{ first_seq: number; end_seq: number }>(
      'SELECT first_seq, end_seq FROM aol_events_partitions()',
    );
    const head = Number((await db.query('SELECT max(seq) AS s FROM aol_events')).rows[0].s);
    expect(head).toBe(36);
    expect(rows.map((r) => [r.first_seq, r.end_seq])).toEqual([
      [1, 11],
      [11, 21],
      [21, 31],
      [31, 41],
      [41, 51],
    ]);
  });

  it('refuses without a signing key, and says so when no whole partition lies before --before', async () => {
    const nokey = await cli(['events', 'archive', '--before', '25', '--out', dir], {
      AOL_SIGNING_KEY: undefined,
    });
    expect(nokey.code).toBe(1);
    expect(nokey.stderr).toMatch(/AOL_SIGNING_KEY is not set/);
    const none = await cli(['events', 'archive', '--before', '8', '--out', dir]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/nothing to archive before seq 8.*partition boundary/);
    expect(none.stdout).toMatch(/archivable ends: 10, 20, 30/);
    const bad = await cli(['events', 'archive', '--before', 'soon', '--out', dir]);
    expect(bad.code).toBe(64);
    // one archive at a time: another holding the archive lock stops this one before any file
    const holder = await db.pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(7310020)');
      const busy = await cli(['events', 'archive', '--before', '25', '--out', dir]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/another aol events archive is running/);
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    } finally {
      await holder.query('SELECT pg_advisory_unlock(7310020)');
      holder.release();
    }
  });

  it('no role and no ordinary path of the owner removes a live row; only an admin archives', async () => {
    for (const r of [op, svc, aud, adm])
      for (const sql of [
        'DELETE FROM aol_events WHERE seq = 3',
        'TRUNCATE aol_events',
        'UPDATE aol_events SET data = data WHERE seq = 3',
        'DELETE FROM aol_events_000000000001',
        'ALTER TABLE aol_events DETACH PARTITION aol_events_000000000001',
        'DROP TABLE aol_events_000000000001',
      ])
        await expect(r.db.query(sql)).rejects.toThrow(/permission denied|must be owner/);
    // The owner (here the superuser that migrated): every DML path is refused by the triggers,
    // on the parent and on a partition.
    for (const sql of [
      'DELETE FROM aol_events WHERE seq = 3',
      'DELETE FROM aol_events_000000000001',
      'UPDATE aol_events_000000000001 SET data = data',
      'TRUNCATE aol_events',
      'TRUNCATE aol_events_000000000001',
      `INSERT INTO aol_events_000000000041 SELECT * FROM aol_events WHERE seq = 3`,
    ])
      await expect(db.query(sql)).rejects.toThrow(/append-only/);
    // the service may make the next partition (its appends do), never one that leaves a hole
    await expect(
      svc.db.query('SELECT aol_events_create_partition(1000000, 1000010)'),
    ).rejects.toThrow(/the next partition of aol_events starts at seq 51, not 1000000/);
    const record = JSON.stringify({ last_seq: 10, manifest_sha256: 'a'.repeat(64) });
    for (const r of [op, svc])
      await expect(
        r.db.query(`SELECT aol_archive_segment($1::jsonb, 'x', 'sql')`, [record]),
      ).rejects.toThrow(/only an admin|permission denied/);
    // An admin's record must describe the live events exactly, and end at a partition boundary.
    await expect(
      adm.db.query(`SELECT aol_archive_segment($1::jsonb, 'x', 'sql')`, [record]),
    ).rejects.toThrow(/does not match the live log/);
    await expect(
      adm.db.query(`SELECT aol_archive_segment($1::jsonb, 'x', 'sql')`, [
        JSON.stringify({ last_seq: 15, manifest_sha256: 'a'.repeat(64) }),
      ]),
    ).rejects.toThrow(/partition boundary: seq 15 does not \(archivable ends: 10, 20, 30\)/);
    expect(Number((await db.query('SELECT count(*) AS n FROM aol_events')).rows[0].n)).toBe(36);
  });

  it('archives whole partitions before --before, records LogSegmentArchived, then drops them', async () => {
    const sizeBefore = Number(
      (await db.query(`SELECT count(*) AS n FROM aol_events_partitions()`)).rows[0].n,
    );
    const r = await cli(['events', 'archive', '--before', '25', '--out', dir, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      first_seq: number;
      last_seq: number;
      count: number;
      manifest: string;
      manifest_sha256: string;
      event_seq: number;
    };
    expect([out.first_seq, out.last_seq, out.count, out.event_seq]).toEqual([1, 20, 20, 37]);
    expect(createHash('sha256').update(readFileSync(out.manifest)).digest('hex')).toBe(
      out.manifest_sha256,
    );
    const files = readdirSync(dir).sort();
    expect(files).toEqual([
      'events-000000000001-000000000010.ndjson',
      'events-000000000011-000000000020.ndjson',
      'manifest-000000000001-000000000020.json',
    ]);
    const lines = readFileSync(join(dir, files[0]), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const { rows } = await db.query<{ type: string; data: Record<string, unknown> }>(
      'SELECT type, data FROM aol_events WHERE seq = 37',
    );
    expect(rows[0].type).toBe('LogSegmentArchived');
    expect(rows[0].data).toMatchObject({
      first_seq: 1,
      last_seq: 20,
      count: 20,
      manifest_sha256: out.manifest_sha256,
      first_prev_hash: '0'.repeat(64),
    });
    const live = await db.query<{ min: number; n: number }>(
      'SELECT min(seq) AS min, count(*) AS n FROM aol_events',
    );
    expect([Number(live.rows[0].min), Number(live.rows[0].n)]).toEqual([21, 17]);
    expect(
      Number((await db.query(`SELECT count(*) AS n FROM aol_events_partitions()`)).rows[0].n),
    ).toBe(sizeBefore - 2);
    // readers from a seq inside the archive get the live events, from the first live seq
    const listed = await cli(['events', 'list', '--after', '5', '--limit', '3', '--json']);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([21, 22, 23]);
    // the plain text says the boundary was rounded down
    const again = await cli(['events', 'archive', '--before', '25', '--out', dir]);
    expect(again.stdout).toMatch(/nothing to archive before seq 25/);
  });

  it('verify: the live log alone names the archive; with --archive, one chain from seq 1', async () => {
    const live = await verify(['--full']);
    expect([live.code, live.r.ok, live.r.checked]).toEqual([0, true, 17]);
    expect(live.r.unchecked.join(' ')).toMatch(
      /events 1\.\.20 are archived .*manifest-000000000001-000000000020\.json.*--archive DIR/,
    );
    const both = await verify(['--full', '--archive', dir]);
    expect([both.code, both.r.ok, both.r.checked, both.r.archive?.last_seq]).toEqual([
      0,
      true,
      37,
      20,
    ]);
    const incremental = await verify(['--incremental', '--archive', dir]);
    expect([incremental.code, incremental.r.ok]).toEqual([0, true]);
  });

  it('replay inside the archive reads the archive files and equals the replay before archiving', async () => {
    for (const s of [5, 10, 25]) {
      const r = await replay(s, dir);
      expect(r.code).toBe(0);
      expect(r.state).toEqual(before[s]);
    }
    const refused = await replay(25);
    expect(refused.code).not.toBe(0);
    expect(refused.state).toMatch(/events 1\.\.20 were archived.*--archive DIR/);
    await expect(db.query('SELECT aol_rebuild()')).rejects.toThrow(
      /cannot rebuild from the live log: it starts at seq 21 .*LogSegmentArchived at seq 37.*--archive DIR/,
    );
  });

  it('an altered archived segment fails verify with the seq of the altered event', async () => {
    const copy = join(root, 'seg-edited');
    cpSync(dir, copy, { recursive: true });
    const f = join(copy, 'events-000000000001-000000000010.ndjson');
    const lines = readFileSync(f, 'utf8').split('\n');
    const e = JSON.parse(lines[6]) as { seq: number; metadata: string };
    expect(e.seq).toBe(7);
    lines[6] = JSON.stringify({
      ...e,
      metadata: e.metadata.replace(/"actor": "[^"]*"/, '"actor": "mallory"'),
    });
    writeFileSync(f, lines.join('\n'));
    const r = await verify(['--archive', copy]);
    expect([r.code, r.r.ok, r.r.first_bad_seq]).toEqual([1, false, 7]);
    expect(r.r.problem).toMatch(
      /events-000000000001-000000000010\.ndjson: content does not match its hash/,
    );

    // A byte added that changes no event: the file's SHA-256 still names it, at its first seq.
    const copy2 = join(root, 'seg-padded');
    cpSync(dir, copy2, { recursive: true });
    writeFileSync(
      join(copy2, 'events-000000000011-000000000020.ndjson'),
      readFileSync(join(dir, 'events-000000000011-000000000020.ndjson'), 'utf8') + '\n',
    );
    const padded = await verify(['--archive', copy2]);
    expect([padded.code, padded.r.first_bad_seq]).toEqual([1, 11]);
    expect(padded.r.problem).toMatch(/was altered: its SHA-256 no longer matches/);
  });

  it('an altered manifest fails verify: on its signature, or re-signed, against the LogSegmentArchived record', async () => {
    const name = 'manifest-000000000001-000000000020.json';
    const m = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Manifest;
    const copy = join(root, 'man-edited');
    cpSync(dir, copy, { recursive: true });
    writeFileSync(
      join(copy, name),
      JSON.stringify({ ...m, created_at: '2020-01-01T00:00:00.000Z' }),
    );
    const edited = await verify(['--archive', copy]);
    expect([edited.code, edited.r.first_bad_seq]).toEqual([1, 1]);
    expect(edited.r.problem).toMatch(
      /manifest-000000000001-000000000020\.json has a bad signature/,
    );

    // Segment and manifest rewritten consistently and re-signed with another key: the signature
    // fails with the auditor's key; signed with the right key, the log's record of its SHA-256 does.
    const { signature: _old, ...body } = { ...m, created_at: '2020-01-01T00:00:00.000Z' };
    void _old;
    const copy2 = join(root, 'man-resigned');
    cpSync(dir, copy2, { recursive: true });
    const resigned = {
      ...body,
      signature: signManifest(parsePrivateKey(key.signingKey), canonicalManifest(body)),
    };
    writeFileSync(join(copy2, name), JSON.stringify(resigned));
    const r = await verify(['--archive', copy2]);
    expect([r.code, r.r.first_bad_seq]).toEqual([1, 1]);
    expect(r.r.problem).toMatch(/is not one a LogSegmentArchived event recorded/);
    const copy3 = join(root, 'man-attacker');
    cpSync(dir, copy3, { recursive: true });
    writeFileSync(
      join(copy3, name),
      JSON.stringify({
        ...body,
        signature: signManifest(parsePrivateKey(attacker.signingKey), canonicalManifest(body)),
      }),
    );
    const a = await verify(['--archive', copy3]);
    expect([a.code, a.r.first_bad_seq]).toEqual([1, 1]);
    expect(a.r.problem).toMatch(/bad signature/);
    const broken = join(root, 'man-broken');
    cpSync(dir, broken, { recursive: true });
    writeFileSync(join(broken, name), '{"format": ');
    const b = await verify(['--archive', broken]);
    expect([b.code, b.r.first_bad_seq]).toEqual([1, 1]);
    const missing = await cli(['events', 'verify', '--archive', join(root, 'nope')]);
    expect(missing.code).toBe(64);
  });

  it('a second archive continues the chain; a prefix dropped outside the product is caught', async () => {
    // --before a time: every whole partition of events before it (here: all below the head's)
    const later = new Date(Date.now() + 3600_000).toISOString();
    const r = await cli(['events', 'archive', '--before', later, '--out', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ first_seq: 21, last_seq: 30 });
    expect((await verify(['--full', '--archive', dir])).r).toMatchObject({ ok: true, checked: 38 });
    expect((await replay(25, dir)).state).toEqual(before[25]);
    // The owner's DDL can drop a partition (as a superuser can disable triggers): verify names it.
    for (let i = 0; i < 10; i++)
      await db.query('UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1');
    await db.query('DROP TABLE aol_events_000000000031');
    // The dropped partition held both LogSegmentArchived records: the live log alone can only say
    // that nothing accounts for its missing beginning; the archive narrows it to what is in neither.
    const cut = await verify(['--full']);
    expect([cut.code, cut.r.first_bad_seq]).toEqual([1, 1]);
    expect(cut.r.problem).toMatch(/no LogSegmentArchived event accounts for events 1\.\.40/);
    const withArchive = await verify(['--full', '--archive', dir]);
    expect([withArchive.code, withArchive.r.first_bad_seq]).toEqual([1, 31]);
    expect(withArchive.r.problem).toMatch(/events 31\.\.40 are neither in the archive nor/);
  });
});

describe('partitions made ahead', () => {
  it('a partition made by an append that rolled back is made again by the next', async () => {
    const t = await createTestDb('archive_rollback', { empty: true });
    await adminQuery(`ALTER DATABASE ${t.name} SET aol.events_partition_rows = 10`);
    const db = new Db(t.url, { max: 2 });
    const c = await db.pool.connect();
    const parts = async () =>
      Number((await c.query('SELECT count(*) AS n FROM aol_events_partitions()')).rows[0].n);
    try {
      await migrate(db);
      expect(await parts()).toBe(2); // [1, 11) holds the first event, [11, 21) is ready
      await c.query('BEGIN');
      for (let i = 0; i < 12; i++) await c.query(`SELECT aol_append('log', NULL, 'X', '{}', '{}')`);
      expect(await parts()).toBe(3);
      await c.query('ROLLBACK');
      expect(await parts()).toBe(2);
      // the same session: what it remembered of the rolled-back partition must not stop it
      for (let i = 0; i < 25; i++) await c.query(`SELECT aol_append('log', NULL, 'X', '{}', '{}')`);
      const { rows } = await c.query<{ n: string; max: string }>(
        'SELECT count(*) AS n, max(seq) AS max FROM aol_events',
      );
      expect([Number(rows[0].n), Number(rows[0].max)]).toEqual([26, 26]);
      expect(await parts()).toBe(4);
    } finally {
      c.release();
      await db.close();
      await t.db.close();
    }
  });
});

describe('replay after archiving, from a snapshot', () => {
  it('a snapshot at or above the archived boundary folds without the archive; below it, refused', async () => {
    const t = await createTestDb('archive_snap', { empty: true });
    await adminQuery(`ALTER DATABASE ${t.name} SET aol.events_partition_rows = 10`);
    const db = new Db(t.url, { max: 2 });
    const out = mkdtempSync(join(tmpdir(), 'aol-archive-snap-'));
    const env = { DATABASE_URL: t.url, AOL_SIGNING_KEY: key.signingKey };
    const replay = async (until: number) => {
      const r = await runCli(['events', 'replay', '--json', '--until', String(until)], env);
      return { code: r.code, out: r.code === 0 ? (JSON.parse(r.stdout) as unknown) : r.stderr };
    };
    try {
      await migrate(db);
      for (let i = 0; i < 35; i++)
        await db.query('UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1');
      const at33 = (await replay(33)).out;
      const snap = await runCli(['events', 'snapshot', '--at', '25', '--json'], env);
      expect(snap.code).toBe(0);
      const a = await runCli(['events', 'archive', '--before', '21', '--out', out, '--json'], env);
      expect(a.code).toBe(0);
      expect(JSON.parse(a.stdout)).toMatchObject({ first_seq: 1, last_seq: 20 });
      // the snapshot of seq 25 is above the boundary (20): a fold to 33 needs no archived event
      const r = await replay(33);
      expect(r.code).toBe(0);
      expect(r.out).toEqual(at33);
      // a fold to 15 starts below the boundary: it needs the archive, and says so
      const refused = await replay(15);
      expect(refused.code).not.toBe(0);
      expect(refused.out).toMatch(/events 1\.\.20 were archived.*--archive DIR/);
      // a snapshot below the boundary is taken from the archive, then a fold to 15 needs none
      const noArchive = await runCli(['events', 'snapshot', '--at', '12', '--json'], env);
      expect(noArchive.code).not.toBe(0);
      expect(noArchive.stderr).toMatch(/--archive DIR/);
      const fromArchive = await runCli(
        ['events', 'snapshot', '--at', '12', '--archive', out, '--json'],
        env,
      );
      expect(fromArchive.code).toBe(0);
      expect(JSON.parse(fromArchive.stdout)).toMatchObject({ seq: 12 });
    } finally {
      await db.close();
      await t.db.close();
    }
  }, 120000);
});
