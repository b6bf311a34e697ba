import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startApiProcess, startWorker, WorkerProc, Proc } from './support/processes.js';
import { events, lease, ticks } from './support/queries.js';

describe('lease, failover and kill (spawned workers)', () => {
  let t: TestDb;
  let workers: WorkerProc[] = [];
  const spawnW = (env: Record<string, string> = {}, args: string[] = []) => {
    const w = startWorker(t.url, env, args);
    workers.push(w);
    return w;
  };
  const holder = async () => (await lease(t.db))?.owner;

  beforeAll(async () => {
    t = await createTestDb('lease');
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    workers = [];
    // leave no lease behind from a SIGKILLed holder for the next test
    await t.db.query('DELETE FROM aol_lease');
    await t.db.query(`UPDATE aol_control_flags SET killed = false, paused = false WHERE id = 1`);
  });
  afterAll(() => t.db.close());

  it('two workers: exactly one holds the lease; SIGTERM → it exits 0 and the other is active within 2 s; the epoch rises', async () => {
    const a = spawnW();
    const b = spawnW();
    await waitFor(async () => [a.id(), b.id()].includes((await holder()) ?? ''), 20000, 'a holder');
    const first = (await lease(t.db))!;
    const [active, standby] = first.owner === a.id() ? [a, b] : [b, a];
    await waitFor(() => standby.output().includes('started'), 20000, 'standby up');
    // the standby stays a standby while the holder renews (TTL 2 s; wait past it)
    await new Promise((r) => setTimeout(r, 2500));
    expect((await lease(t.db))!.owner).toBe(active.id());
    expect((await events(t.db, `type = 'LeaseAcquired'`)).map((e) => e.data.owner)).toEqual([
      active.id(),
    ]);

    active.child.kill('SIGTERM');
    expect(await active.exited).toBe(0);
    await waitFor(async () => (await holder()) === standby.id(), 5000, 'standby takes over');
    const [released] = await events(t.db, `type = 'LeaseReleased'`);
    const acquired = (await events(t.db, `type = 'LeaseAcquired'`)).at(-1)!;
    expect(acquired.data.epoch).toBe(first.epoch + 1);
    expect(acquired.occurred_at.getTime() - released.occurred_at.getTime()).toBeLessThan(2000);
    // the SIGTERMed holder recorded its last tick before releasing
    const lastTick = (
      await events(t.db, `type = 'TickRecorded' AND data->>'worker' = $1`, [active.id()])
    ).at(-1)!;
    expect(lastTick.seq).toBeLessThan(released.seq);
  });

  it('SIGKILL of the holder: the standby is active within TTL + 1 s, with a LeaseExpired record and a higher epoch', async () => {
    const a = spawnW();
    await waitFor(async () => (await holder()) === a.id(), 20000, 'a holds');
    const b = spawnW();
    await waitFor(() => b.output().includes('started'), 20000, 'b up');
    const before = (await lease(t.db))!.epoch;
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await waitFor(async () => (await holder()) === b.id(), 10000, 'b takes over');
    const acquired = (await events(t.db, `type = 'LeaseAcquired'`)).at(-1)!;
    expect(acquired.occurred_at.getTime() - killedAt).toBeLessThanOrEqual(2000 + 1000);
    expect(acquired.data.epoch).toBe(before + 1);
    const expired = (await events(t.db, `type = 'LeaseExpired'`)).at(-1)!;
    expect(expired.data).toMatchObject({ owner: a.id(), epoch: before, detected_by: b.id() });
  });

  it('runbook DELETE FROM aol_lease: a force-release event via sql; the holder stops, a standby takes over at once', async () => {
    const a = spawnW({ AOL_LEASE_TTL_SECONDS: '30' });
    await waitFor(async () => (await holder()) === a.id(), 20000, 'a holds');
    const b = spawnW({ AOL_LEASE_TTL_SECONDS: '30' });
    await waitFor(() => b.output().includes('started'), 20000, 'b up');
    const epoch = (await lease(t.db))!.epoch;
    const t0 = Date.now();
    await t.db.query('DELETE FROM aol_lease');
    const forced = (await events(t.db, `type = 'LeaseForceReleased'`)).at(-1)!;
    expect(forced.data).toEqual({ owner: a.id(), epoch });
    expect(forced.metadata).toMatchObject({ via: 'sql' });
    // TTL is 30 s: a takeover now is the NOTIFY, not an expiry
    await waitFor(async () => (await lease(t.db))?.epoch === epoch + 1, 5000, 'a new holder');
    expect(Date.now() - t0).toBeLessThan(5000);
    await waitFor(
      () => /lease epoch \d+ lost \(force-released by/.test(a.output()),
      5000,
      'old holder stops',
    );
  });

  it('--max-ticks: N ticks then exit 0 releasing the lease; with the lease held, exit 0 at once naming the holder', async () => {
    const before = (await ticks(t.db)).ticks;
    const cron = spawnW({}, ['--max-ticks=2']);
    expect(await cron.exited).toBe(0);
    // two ticks: two TickRecorded events (one ledger row per tick)
    expect(await ticks(t.db)).toEqual({ ticks: before + 2, worker: cron.id() });
    const recorded = await events(t.db, `type = 'TickRecorded' AND data->>'worker' = $1`, [
      cron.id(),
    ]);
    expect(recorded).toHaveLength(2);
    expect(await lease(t.db)).toBeUndefined();

    const a = spawnW();
    await waitFor(async () => (await holder()) === a.id(), 20000, 'a holds');
    const blocked = spawnW({}, ['--max-ticks=1']);
    expect(await blocked.exited).toBe(0);
    expect(blocked.output()).toMatch(new RegExp(`lease held by ${a.id()} \\(epoch \\d+\\)`));
    expect(
      await events(t.db, `data->>'worker' = $1 OR data->>'owner' = $1`, [blocked.id()]),
    ).toEqual([]);
  });

  it('kill of an idle worker: it records the tick, releases the lease and exits 0 well within a second; a restart with kill set exits 0 at once', async () => {
    const a = spawnW({ AOL_TICK_INTERVAL_SECONDS: '30' });
    await waitFor(
      async () =>
        (await holder()) === a.id() &&
        (await events(t.db, `type = 'TickRecorded' AND data->>'worker' = $1`, [a.id()])).length > 0,
      20000,
      'a idle',
    );
    const t0 = Date.now();
    await t.db.query('UPDATE aol_control_flags SET killed = true WHERE id = 1');
    expect(await a.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1000);
    const tail = await events(
      t.db,
      `seq > (SELECT max(seq) FROM aol_events WHERE type = 'ControlKilled')`,
    );
    expect(tail.map((e) => e.type)).toEqual([
      'ControlAcknowledged',
      'TickRecorded',
      'LeaseReleased',
    ]);
    const again = spawnW();
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/kill is set/);
  });

  it('lease REST and CLI: show, force release (reason required; 409 when nobody holds it)', async () => {
    const api: Proc & { url: string } = await startApiProcess(t.url);
    try {
      const none = await fetch(`${api.url}/lease`).then((r) => r.json());
      expect(none).toMatchObject({ status: 'none', owner: null });
      const conflict = await fetch(`${api.url}/lease/release`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ force: true, reason: 'x' }),
      });
      expect(conflict.status).toBe(409);
      const notForced = await fetch(`${api.url}/lease/release`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'x' }),
      });
      expect(notForced.status).toBe(400);
      const a = spawnW({ AOL_LEASE_TTL_SECONDS: '30' });
      await waitFor(async () => (await holder()) === a.id(), 20000, 'a holds');
      const shown = await runCli(['lease', 'show'], { DATABASE_URL: t.url });
      expect(shown.stdout).toMatch(new RegExp(`owner ${a.id()}\\s+epoch \\d+\\s+valid`));
      const got = (await fetch(`${api.url}/lease`).then((r) => r.json())) as {
        status: string;
        ttl_seconds: number;
      };
      expect(got.status).toBe('valid');
      expect(got.ttl_seconds).toBeGreaterThan(0);
      const r = await fetch(`${api.url}/lease/release`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ force: true, reason: 'stuck' }),
      });
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ released: { owner: a.id() } });
      await waitFor(
        async () => (await holder()) === a.id(),
        10000,
        'a re-acquires as the only worker',
      );
      const cliNoForce = await runCli(['lease', 'release', '--reason', 'x'], {
        DATABASE_URL: t.url,
      });
      expect(cliNoForce.code).toBe(64);
      const cli = await runCli(
        ['lease', 'release', '--force', '--reason', 'cli stuck', '--actor', 'ops'],
        { DATABASE_URL: t.url },
      );
      expect(cli.code).toBe(0);
      const forced = (await events(t.db, `type = 'LeaseForceReleased'`)).at(-1)!;
      expect(forced.metadata).toMatchObject({ via: 'cli', reason: 'cli stuck', label: 'ops' });
      expect(forced.metadata.actor).not.toBe('ops');
    } finally {
      await api.stop();
    }
  });

  it('start-up retries an unreachable database for DB_STARTUP_RETRY_SECS, then exits 1 with a clear message', async () => {
    const w = startWorker('postgresql://postgres:hunter2pw@127.0.0.1:1/nowhere', {
      DB_STARTUP_RETRY_SECS: '1',
    });
    expect(await w.exited).toBe(1);
    expect(w.output()).toMatch(/database not reachable yet \(attempt 1\)/);
    expect(w.output()).toMatch(/database unreachable after 1s \(DB_STARTUP_RETRY_SECS\)/);
    expect(w.output()).not.toContain('hunter2pw');
  });
});
