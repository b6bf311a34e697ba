import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb } from './support/db.js';
import { runCli } from './support/processes.js';

describe('aol CLI (spawned `node dist/cli.js`)', () => {
  let t: TestDb;
  let env: Record<string, string>;
  let login: string;
  beforeAll(async () => {
    t = await createTestDb('cli');
    env = { DATABASE_URL: t.url };
    login = (await t.db.query<{ u: string }>('SELECT session_user::text AS u')).rows[0].u;
  });
  afterAll(() => t.db.close());

  it.each([
    [['pause'], 'ControlPaused', { paused: true }],
    [['resume'], 'ControlResumed', { paused: false }],
    [['kill'], 'ControlKilled', { killed: true }],
    [['revive'], 'ControlRevived', { killed: false }],
    [['proof', 'off'], 'ProofModeDisabled', { proof_mode: false }],
    [['proof', 'on'], 'ProofModeEnabled', { proof_mode: true }],
  ])(
    'aol %j --reason records the event via cli, the login role as actor, --actor as label',
    async (args, type, flags) => {
      const r = await runCli([...args, '--reason', `cli ${type}`, '--actor', 'bob'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`${type} recorded`));
      const { rows } = await t.db.query(`SELECT * FROM aol_events ORDER BY seq DESC LIMIT 1`);
      expect(rows[0]).toMatchObject({
        type,
        metadata: { actor: login, via: 'cli', reason: `cli ${type}`, label: 'bob' },
      });
      const f = await t.db.query('SELECT * FROM aol_control_flags');
      expect(f.rows[0]).toMatchObject(flags);
    },
  );

  it('without --actor no label is stored; a no-op says so and exits 0', async () => {
    const r = await runCli(['resume', '--reason', 'x'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no change: not paused/);
  });

  it('usage errors exit 64 with a message, and write nothing', async () => {
    const before = (await t.db.query('SELECT count(*)::int AS n FROM aol_events')).rows[0].n;
    const missing = await runCli(['pause'], env);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/--reason/);
    const blank = await runCli(['pause', '--reason', '  '], env);
    expect(blank.code).toBe(64);
    expect(blank.stderr).toMatch(/must not be empty/);
    const badMode = await runCli(['proof', 'maybe', '--reason', 'x'], env);
    expect(badMode.code).toBe(64);
    expect(badMode.stderr).toMatch(/unknown command 'maybe'/);
    const unknown = await runCli(['frobnicate'], env);
    expect(unknown.code).toBe(64);
    expect((await t.db.query('SELECT count(*)::int AS n FROM aol_events')).rows[0].n).toBe(before);
  });

  it('--help works for every command', async () => {
    for (const args of [
      ['--help'],
      ['pause', '--help'],
      ['events', '--help'],
      ['events', 'replay', '--help'],
      ['migrate', '--help'],
    ]) {
      const r = await runCli(args, env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: aol/);
    }
  });

  it('an unreachable database exits 2 without printing the password', async () => {
    const r = await runCli(['pause', '--reason', 'x'], {
      DATABASE_URL: 'postgresql://u:s3cretpw@127.0.0.1:1/none',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/database unreachable/);
    expect(r.stdout + r.stderr).not.toMatch(/s3cretpw/);
  });

  it('events list, replay --json, export and verify', async () => {
    const list = await runCli(['events', 'list', '--stream', 'control'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ProofModeEnabled\s+aol-migrate\/sql/);
    const replay = await runCli(['events', 'replay', '--until', '2', '--json'], env);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      at_seq: 2,
      flags: { paused: true, proof_mode: true },
    });
    const exp = await runCli(['events', 'export'], env);
    const lines = exp.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const n = (await t.db.query('SELECT count(*)::int AS n FROM aol_events')).rows[0].n;
    expect(lines).toHaveLength(n);
    expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const ok = await runCli(['events', 'verify'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`OK: ${n} events`));
  });

  it('events snapshot records a snapshot at the head; replay --until folds from it, --full from seq 1', async () => {
    const head = (await t.db.query<{ s: number }>('SELECT max(seq) AS s FROM aol_events')).rows[0]
      .s;
    const r = await runCli(['events', 'snapshot', '--json'], env);
    expect(r.code).toBe(0);
    const taken = JSON.parse(r.stdout) as { seq: number; event_seq: number; sha256: string };
    expect(taken).toMatchObject({ seq: head, event_seq: head + 1 });
    const { rows } = await t.db.query('SELECT * FROM aol_events WHERE seq = $1', [head + 1]);
    expect(rows[0]).toMatchObject({
      stream: 'log',
      type: 'SnapshotTaken',
      data: { seq: head, sha256: taken.sha256 },
      metadata: { actor: login, via: 'cli' },
    });
    const again = await runCli(['events', 'snapshot', '--at', String(head)], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`a snapshot of seq ${head} exists already`));
    const beyond = await runCli(['events', 'snapshot', '--at', '999999'], env);
    expect(beyond.code).not.toBe(0);
    expect(beyond.stderr).toMatch(/no snapshot of seq 999999: the log holds seq 1 to/);
    const fromSnap = await runCli(['events', 'replay', '--until', String(head + 1), '--json'], env);
    const full = await runCli(
      ['events', 'replay', '--until', String(head + 1), '--json', '--full'],
      env,
    );
    expect(fromSnap.code).toBe(0);
    expect(JSON.parse(fromSnap.stdout)).toEqual(JSON.parse(full.stdout));
    expect(JSON.parse(fromSnap.stdout)).toMatchObject({ at_seq: head + 1 });
  });

  it('events verify exits 1 and names the first bad seq after tampering', async () => {
    await t.db.query('ALTER TABLE aol_events DISABLE TRIGGER aol_events_no_update');
    await t.db.query(
      `UPDATE aol_events SET metadata = metadata || '{"actor":"mallory"}' WHERE seq = 3`,
    );
    await t.db.query('ALTER TABLE aol_events ENABLE TRIGGER aol_events_no_update');
    const r = await runCli(['events', 'verify', '--json'], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, first_bad_seq: 3, checked: 2 });
  });

  it('aol migrate on a migrated database says so', async () => {
    const r = await runCli(['migrate'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/up to date/);
  });

  it('aol migrate with NODE_ENV=production records it in the database, once', async () => {
    const before = await t.db.query(
      `SELECT count(*)::int AS n FROM aol_events WHERE type = 'ProductionModeEntered'`,
    );
    expect(before.rows[0].n).toBe(0);
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['migrate'], { ...env, NODE_ENV: 'production' });
      expect(r.code).toBe(0);
      if (i === 0) expect(r.stdout).toMatch(/this deployment is production/);
    }
    const { rows } = await t.db.query(
      `SELECT metadata FROM aol_events WHERE type = 'ProductionModeEntered'`,
    );
    expect(rows).toEqual([{ metadata: expect.objectContaining({ actor: login, via: 'cli' }) }]);
    expect((await t.db.query('SELECT production FROM aol_deployment')).rows[0].production).toBe(
      true,
    );
    expect((await runCli(['production', 'clear', '--reason', 'staging'], env)).stdout).toMatch(
      /ProductionModeCleared recorded/,
    );
  });

  it('events tail streams the backlog after --after, then live, and stops cleanly on SIGINT', async () => {
    const { spawnNode, CLI } = await import('./support/processes.js');
    const { waitFor } = await import('./support/db.js');
    const head = (await t.db.query<{ s: number }>('SELECT max(seq) AS s FROM aol_events')).rows[0]
      .s;
    await t.db.query('UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1');
    const tail = spawnNode(
      CLI,
      ['events', 'tail', '--stream', 'control', '--after', String(head)],
      env,
    );
    try {
      await waitFor(
        () => /control\s+Control(Paused|Resumed)\s+\S+\/sql/.test(tail.output()),
        20000,
        'the backlog',
      );
      const before = tail.output().split('\n').filter(Boolean).length;
      await t.db.query('UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1');
      await waitFor(
        () => tail.output().split('\n').filter(Boolean).length > before,
        20000,
        'the live change',
      );
      expect(await tail.stop('SIGINT')).toBe(0);
    } finally {
      await tail.stop('SIGKILL');
    }
  });
});
