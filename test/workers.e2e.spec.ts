import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startApiProcess, startWorker, Proc, WorkerProc } from './support/processes.js';
import { events } from './support/queries.js';

type W = {
  id: string;
  status: string;
  alive: boolean;
  epoch: number | null;
  ttl_seconds: number;
  last_seen_at_utc: string;
  seen_age_seconds: number;
};
type Report = { workers: W[]; counts: Record<string, number>; server_time_utc: string };
type Health = {
  workers: W[] | null;
  standbys: number | null;
  warnings: { code: string }[];
};

const TTL = 2;

describe('worker presence: GET /workers, aol workers, /health/aol', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  const procs: WorkerProc[] = [];
  const list = async () => (await fetch(`${api.url}/workers`).then((r) => r.json())) as Report;
  const find = async (id: string) => (await list()).workers.find((w) => w.id === id);
  const health = async () => (await fetch(`${api.url}/health/aol`).then((r) => r.json())) as Health;
  const spawn = () => {
    const w = startWorker(t.url, { AOL_LEASE_TTL_SECONDS: String(TTL) });
    procs.push(w);
    return w;
  };

  beforeAll(async () => {
    t = await createTestDb('workers');
    api = await startApiProcess(t.url, { AOL_EXPECT_STANDBY: 'true' });
  });
  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await api.stop();
    await t.db.close();
  });

  it('an active worker and a standby appear; a SIGKILLed standby is judged dead on database time', async () => {
    const a = spawn();
    const active = await waitFor(
      async () => ((await find(a.id()))?.status === 'active' ? await find(a.id()) : undefined),
      20000,
      'worker A active in /workers',
    );
    expect(active.epoch).toBeGreaterThan(0);
    expect(active.alive).toBe(true);
    // Alone, the active worker has no standby: warned (AOL_EXPECT_STANDBY=true on this API).
    await waitFor(
      async () => (await health()).warnings.some((w) => w.code === 'NO_STANDBY'),
      10000,
      'NO_STANDBY',
    );

    const spawnedAt = Date.now();
    const b = spawn();
    await waitFor(
      async () => (await find(b.id()))?.status === 'standby',
      20000,
      'worker B standby in /workers',
    );
    console.log(
      `presence: standby visible in GET /workers ${Date.now() - spawnedAt} ms after spawn (node start-up included)`,
    );
    const h = await health();
    expect(h.standbys).toBe(1);
    expect(h.workers!.map((w) => [w.id, w.status]).sort()).toEqual(
      [
        [a.id(), 'active'],
        [b.id(), 'standby'],
      ].sort(),
    );
    await waitFor(
      async () => !(await health()).warnings.some((w) => w.code === 'NO_STANDBY'),
      10000,
      'NO_STANDBY gone',
    );

    // The row is refreshed, not written once: its last-seen time moves on.
    const first = (await find(b.id()))!.last_seen_at_utc;
    await waitFor(
      async () => (await find(b.id()))!.last_seen_at_utc > first,
      10000,
      'B refreshed its presence',
    );
    const before = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM aol_events'))
      .rows[0].n;

    const killedAt = Date.now();
    await b.stop('SIGKILL');
    const dead = await waitFor(
      async () => ((await find(b.id()))?.status === 'dead' ? await find(b.id()) : undefined),
      20000,
      'B dead',
    );
    console.log(
      `presence: SIGKILLed standby shown dead ${Date.now() - killedAt} ms after the kill (TTL ${TTL} s; bound TTL + 1 s)`,
    );
    // Dead means: no refresh within its TTL, by the database's clock.
    expect(dead.seen_age_seconds).toBeGreaterThanOrEqual(TTL);
    expect(dead.alive).toBe(false);
    expect((await health()).warnings.map((w) => w.code)).toContain('NO_STANDBY');
    // Refreshes are not events; nor is a death: presence added nothing to the log
    // beyond the active worker's own ticks and renewals.
    const added = await events(t.db, 'seq > $1', [before]);
    expect(added.filter((e) => e.stream !== 'tick' && e.type !== 'LeaseRenewed')).toEqual([]);
  }, 60000);

  it('the database clock decides: a row is dead once the database time passes its TTL', async () => {
    await t.db.query(`SELECT aol_worker_beat('probe:1', 'probe', 1, 'standby', NULL, 30, NULL)`);
    expect((await find('probe:1'))?.status).toBe('standby');
    try {
      await t.db.query('UPDATE aol_clock SET offset_seconds = 31');
      expect((await find('probe:1'))?.status).toBe('dead');
      await t.db.query('UPDATE aol_clock SET offset_seconds = 29');
      expect((await find('probe:1'))?.status).toBe('standby');
    } finally {
      await t.db.query('UPDATE aol_clock SET offset_seconds = 0');
      await t.db.query(`DELETE FROM aol_workers WHERE id = 'probe:1'`);
    }
  });

  it('a clean exit leaves the row as left; aol workers shows the same as GET /workers', async () => {
    const a = procs[0];
    expect(await a.stop('SIGTERM')).toBe(0);
    const left = await waitFor(
      async () => ((await find(a.id()))?.status === 'left' ? await find(a.id()) : undefined),
      10000,
      'A left',
    );
    expect(left.epoch).toBeNull();
    const h = await health();
    expect(h.warnings.map((w) => w.code)).toContain('NO_LIVE_WORKER');
    expect(h.workers!.some((w) => w.id === a.id())).toBe(false);

    const cli = await runCli(['workers', '--json'], { DATABASE_URL: t.url });
    expect(cli.code).toBe(0);
    const fromCli = JSON.parse(cli.stdout) as Report;
    const fromApi = await list();
    const strip = (r: Report) => r.workers.map((w) => [w.id, w.status]);
    expect(strip(fromCli)).toEqual(strip(fromApi));
    expect(fromCli.counts).toMatchObject({ left: 1, dead: 1, active: 0, standby: 0 });

    const text = await runCli(['workers'], { DATABASE_URL: t.url });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${a.id()}\\s+left`));
    expect(text.stdout).toMatch(/dead 1/);
  });

  it('/workers needs a token when tokens are configured; bad CLI options exit 64', async () => {
    const secured = await startApiProcess(t.url, {
      AOL_API_TOKENS: 'v:viewer:tok-viewer-0123456789',
    });
    try {
      expect((await fetch(`${secured.url}/workers`)).status).toBe(401);
      const ok = await fetch(`${secured.url}/workers`, {
        headers: { authorization: 'Bearer tok-viewer-0123456789' },
      });
      expect(ok.status).toBe(200);
    } finally {
      await secured.stop();
    }
    expect((await runCli(['workers', '--bogus'], { DATABASE_URL: t.url })).code).toBe(64);
  });
});
