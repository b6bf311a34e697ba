import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createCheckpoint, listCheckpoints } from '../src/events/checkpoints.js';
import { generateSigningKeyPair, parsePrivateKey, signHead } from '../src/common/signing.js';
import { createTestDb, TestDb } from './support/db.js';
import { CLI, runCli } from './support/processes.js';

/**
 * A database superuser tampers with history the ways issue 12 lists: the
 * append-only trigger disabled, an event edited, the whole chain's hashes
 * recomputed, the tail deleted, two events swapped, a checkpoint forged with
 * a key of their own. Each is caught by `aol events verify --checkpoints FILE
 * --public-key KEY` with the seq it names.
 */
const key = generateSigningKeyPair();
const attacker = generateSigningKeyPair();
const dir = mkdtempSync(join(tmpdir(), 'aol-cp-'));
const meta = { actor: 'test', via: 'cli' as const };

type Verify = {
  ok: boolean;
  first_bad_seq: number | null;
  problem?: string;
  bad_range?: [number, number];
  unchecked: string[];
  mode: 'full' | 'incremental';
  from_seq: number;
  checked: number;
};

// Recompute every prev_hash and hash from the first event, as an attacker who
// read migrations/0001 would: the chain is then internally consistent again.
const RECHAIN = `
CREATE OR REPLACE FUNCTION test_rechain() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record; prev text := repeat('0', 64); h text;
BEGIN
  FOR r IN SELECT * FROM aol_events ORDER BY seq LOOP
    h := encode(sha256(convert_to(prev || aol_event_content(r.seq, r.stream, r.stream_version, r.type,
           r.data, r.metadata, r.occurred_at), 'UTF8')), 'hex');
    UPDATE aol_events SET prev_hash = prev, hash = h WHERE seq = r.seq;
    prev := h;
  END LOOP;
END $$;`;

async function tamper(t: TestDb, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  try {
    await c.query(`BEGIN; ALTER TABLE aol_events DISABLE TRIGGER aol_events_no_update;
      ${sql}; ALTER TABLE aol_events ENABLE TRIGGER aol_events_no_update; COMMIT;`);
  } finally {
    await c.end();
  }
}

async function verify(t: TestDb, args: string[]): Promise<{ code: number | null; r: Verify }> {
  const res = await runCli(['events', 'verify', '--json', ...args], { DATABASE_URL: t.url });
  return { code: res.code, r: JSON.parse(res.stdout) as Verify };
}

/**
 * Events 1..9, checkpoint A of seq 9 (event 10), events 11..19, checkpoint B
 * of seq 19 (event 20), events 21..24; the auditor saves the checkpoints.
 */
async function logWithCheckpoints(label: string): Promise<{ t: TestDb; file: string }> {
  const t = await createTestDb(label);
  const signing = parsePrivateKey(key.signingKey);
  const flips = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const { rows } = await t.db.query<{ paused: boolean }>(
        'SELECT paused FROM aol_control_flags WHERE id = 1',
      );
      await t.db.query('UPDATE aol_control_flags SET paused = $1 WHERE id = 1', [!rows[0].paused]);
    }
  };
  await t.db.query(RECHAIN);
  const head0 = Number((await t.db.query('SELECT max(seq) AS s FROM aol_events')).rows[0].s);
  await flips(9 - head0);
  expect((await createCheckpoint(t.db, signing, meta))?.event_seq).toBe(10);
  await flips(9);
  expect((await createCheckpoint(t.db, signing, meta))?.event_seq).toBe(20);
  await flips(4);
  const file = join(dir, `${t.name}.json`);
  writeFileSync(file, JSON.stringify(await listCheckpoints(t.db)));
  return { t, file };
}

describe('superuser tampering is caught by verify --checkpoints', () => {
  const dbs: TestDb[] = [];
  const open = async (label: string) => {
    const x = await logWithCheckpoints(label);
    dbs.push(x.t);
    return x;
  };
  let pubFile: string;
  beforeAll(() => {
    pubFile = join(dir, 'public.key');
    writeFileSync(pubFile, `${key.publicKey}\n`);
  });
  afterAll(async () => {
    await Promise.all(dbs.map((t) => t.db.close()));
  });

  it('an untouched log verifies, with the key given inline or as a file', async () => {
    const { t, file } = await open('cp_clean');
    for (const k of [key.publicKey, pubFile]) {
      const { code, r } = await verify(t, ['--checkpoints', file, '--public-key', k]);
      expect([code, r.ok, r.first_bad_seq]).toEqual([0, true, null]);
    }
  });

  it('an edited event: its seq; with the chain then recomputed, the signed interval it lies in', async () => {
    const { t, file } = await open('cp_edit');
    await tamper(
      t,
      `UPDATE aol_events SET metadata = jsonb_set(metadata, '{actor}', '"mallory"') WHERE seq = 15`,
    );
    // Edited in place, hashes kept: inside what checkpoint B (seq 19) vouches for, so only --full walks it.
    const edited = await verify(t, [
      '--full',
      '--checkpoints',
      file,
      '--public-key',
      key.publicKey,
    ]);
    expect([edited.code, edited.r.first_bad_seq]).toEqual([1, 15]);

    await tamper(t, 'SELECT test_rechain()');
    // The attack of issue 12: without the signatures, the rewritten chain verifies.
    const plain = await runCli(['events', 'verify'], { DATABASE_URL: t.url });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/not checked: no public key/);

    const caught = await verify(t, ['--checkpoints', file, '--public-key', key.publicKey]);
    expect([caught.code, caught.r.ok, caught.r.first_bad_seq]).toEqual([1, false, 10]);
    expect(caught.r.bad_range).toEqual([10, 19]);
    expect(caught.r.problem).toMatch(/events 10\.\.19 were rewritten/);
  });

  it('a deleted tail: the first missing seq, only from the saved copy', async () => {
    const { t, file } = await open('cp_tail');
    await tamper(t, 'DELETE FROM aol_events WHERE seq >= 15');
    // The log's own checkpoint of seq 19 went with the tail: the log alone can't tell.
    const inLog = await verify(t, ['--public-key', key.publicKey]);
    expect([inLog.code, inLog.r.ok]).toEqual([0, true]);
    const caught = await verify(t, ['--checkpoints', file, '--public-key', key.publicKey]);
    expect([caught.code, caught.r.first_bad_seq]).toEqual([1, 15]);
    expect(caught.r.problem).toMatch(/log ends at seq 14/);
  });

  it('two events swapped: the first of them; recomputed, the signed interval', async () => {
    const { t, file } = await open('cp_swap');
    await tamper(
      t,
      // every column but seq traded between the two rows (a partitioned log has no room for a seq
      // outside its range to park one in)
      `UPDATE aol_events a SET stream = b.stream, stream_version = b.stream_version, type = b.type,
         data = b.data, metadata = b.metadata, occurred_at = b.occurred_at, prev_hash = b.prev_hash,
         hash = b.hash
         FROM aol_events b WHERE (a.seq, b.seq) IN ((12, 13), (13, 12))`,
    );
    const swapped = await verify(t, [
      '--full',
      '--checkpoints',
      file,
      '--public-key',
      key.publicKey,
    ]);
    expect([swapped.code, swapped.r.first_bad_seq]).toEqual([1, 12]);
    await tamper(t, 'SELECT test_rechain()');
    expect((await runCli(['events', 'verify'], { DATABASE_URL: t.url })).code).toBe(0);
    const caught = await verify(t, ['--checkpoints', file, '--public-key', key.publicKey]);
    expect([caught.code, caught.r.first_bad_seq, caught.r.bad_range]).toEqual([1, 10, [10, 19]]);
  });

  it('a forged checkpoint: the event carrying it, and the saved copy still pins the rewrite', async () => {
    const { t, file } = await open('cp_forge');
    await tamper(
      t,
      `UPDATE aol_events SET metadata = jsonb_set(metadata, '{actor}', '"mallory"') WHERE seq = 15; SELECT test_rechain()`,
    );
    // Re-sign checkpoint B (event 20) over the rewritten head with the attacker's key, claiming the real key id.
    const { rows } = await t.db.query<{ hash: string; at: string; key_id: string }>(
      `SELECT e.hash, c.data->>'occurred_at' AS at, c.data->>'key_id' AS key_id
         FROM aol_events e, aol_events c WHERE e.seq = 19 AND c.seq = 20`,
    );
    const h = { seq: 19, hash: rows[0].hash, occurred_at: rows[0].at };
    const forged = {
      ...h,
      signature: signHead(parsePrivateKey(attacker.signingKey), h),
      key_id: rows[0].key_id,
    };
    await tamper(
      t,
      `UPDATE aol_events SET data = '${JSON.stringify(forged)}'::jsonb WHERE seq = 20; SELECT test_rechain()`,
    );

    const inLog = await verify(t, ['--public-key', key.publicKey]);
    expect([inLog.code, inLog.r.first_bad_seq]).toEqual([1, 20]);
    expect(inLog.r.problem).toMatch(/bad signature/);
    const withFile = await verify(t, ['--checkpoints', file, '--public-key', key.publicKey]);
    expect([withFile.code, withFile.r.first_bad_seq]).toEqual([1, 10]);
  });

  it('a saved checkpoint whose hash was edited fails on its signature', async () => {
    const { t, file } = await open('cp_badfile');
    const list = (await listCheckpoints(t.db)).map((c) =>
      c.seq === 9 ? { ...c, hash: 'f'.repeat(64) } : c,
    );
    const edited = join(dir, `${t.name}-edited.json`);
    writeFileSync(edited, JSON.stringify(list));
    const r = await verify(t, ['--checkpoints', edited, '--public-key', key.publicKey]);
    expect([r.code, r.r.first_bad_seq]).toEqual([1, 10]);
    expect(r.r.problem).toMatch(/checkpoint of seq 9 \(file\) has a bad signature/);
    // Checked with another key, every checkpoint fails.
    const other = await verify(t, ['--checkpoints', file, '--public-key', attacker.publicKey]);
    expect([other.code, other.r.first_bad_seq]).toEqual([1, 10]);
  });

  it('incremental verify walks only what follows the last trusted checkpoint and catches a tamper there', async () => {
    const { t, file } = await open('cp_incr');
    const clean = await verify(t, [
      '--incremental',
      '--checkpoints',
      file,
      '--public-key',
      key.publicKey,
    ]);
    // Checkpoint B signs seq 19: events 20..24 are walked, 1..19 vouched for by its signature.
    expect([clean.code, clean.r.mode, clean.r.from_seq, clean.r.checked]).toEqual([
      0,
      'incremental',
      20,
      5,
    ]);
    await tamper(t, `UPDATE aol_events SET data = '{"x": 1}'::jsonb WHERE seq = 22`);
    const after = await verify(t, [
      '--incremental',
      '--checkpoints',
      file,
      '--public-key',
      key.publicKey,
    ]);
    expect([after.code, after.r.ok, after.r.first_bad_seq, after.r.mode]).toEqual([
      1,
      false,
      22,
      'incremental',
    ]);
    // Without a key nothing is trusted: the whole log is walked.
    const nokey = await runCli(['events', 'verify', '--incremental', '--json'], {
      DATABASE_URL: t.url,
    });
    expect(JSON.parse(nokey.stdout)).toMatchObject({
      mode: 'full',
      from_seq: 1,
      first_bad_seq: 22,
    });
  });

  it('a tamper before the trusted checkpoint that kept the hashes is found by the default full verify, not --incremental', async () => {
    const { t, file } = await open('cp_full');
    await tamper(
      t,
      `UPDATE aol_events SET metadata = jsonb_set(metadata, '{actor}', '"mallory"') WHERE seq = 5`,
    );
    const incr = await verify(t, [
      '--incremental',
      '--checkpoints',
      file,
      '--public-key',
      key.publicKey,
    ]);
    expect([incr.code, incr.r.mode]).toEqual([0, 'incremental']);
    expect(incr.r.unchecked.join(' ')).toMatch(/events 1\.\.19 were not walked.*full verify/);
    // the default walks every event
    const dflt = await verify(t, ['--checkpoints', file, '--public-key', key.publicKey]);
    expect([dflt.code, dflt.r.first_bad_seq, dflt.r.mode]).toEqual([1, 5, 'full']);
    const full = await verify(t, ['--full', '--checkpoints', file, '--public-key', key.publicKey]);
    expect([full.code, full.r.first_bad_seq, full.r.mode, full.r.checked]).toEqual([
      1,
      5,
      'full',
      4,
    ]);
  });

  it('output stays machine-readable off a terminal: no progress on stderr, one JSON document on stdout', async () => {
    const { t, file } = await open('cp_pipe');
    for (const args of [['--full'], []]) {
      const res = await runCli(
        [
          'events',
          'verify',
          '--json',
          ...args,
          '--checkpoints',
          file,
          '--public-key',
          key.publicKey,
        ],
        { DATABASE_URL: t.url },
      );
      expect(res.code).toBe(0);
      expect(res.stderr).toBe('');
      expect(res.stdout).not.toMatch(/\r/);
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: true });
      const plain = await runCli(['events', 'verify', ...args], { DATABASE_URL: t.url });
      expect(plain.stderr).toBe('');
      expect(plain.stdout.split('\n')[0]).toMatch(/^OK: \d+ events/);
    }
  });

  // On a terminal (a pty from util-linux `script`), the progress bar is drawn on stderr.
  (existsSync('/usr/bin/script') ? it : it.skip)(
    'on a terminal, a full verify draws its progress bar',
    async () => {
      const { t } = await open('cp_tty');
      const out = execFileSync(
        '/usr/bin/script',
        ['-qec', `${process.execPath} ${CLI} events verify --full`, '/dev/null'],
        { env: { ...process.env, DATABASE_URL: t.url }, encoding: 'utf8' },
      );
      expect(out).toMatch(/\rverify \[#+\] 100% 24\/24/);
      expect(out).toMatch(/OK: 24 events/);
    },
  );

  it('bad arguments are usage errors (64), not tampering', async () => {
    const { t } = await open('cp_usage');
    const badKey = await runCli(['events', 'verify', '--public-key', 'nope'], {
      DATABASE_URL: t.url,
    });
    expect(badKey.code).toBe(64);
    expect(badKey.stderr).toMatch(/--public-key must be an Ed25519 public key/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"not": "an array"}');
    const badFile = await runCli(['events', 'verify', '--checkpoints', bad], {
      DATABASE_URL: t.url,
    });
    expect(badFile.code).toBe(64);
    expect(badFile.stderr).toMatch(/not a JSON array/);
  });
});
