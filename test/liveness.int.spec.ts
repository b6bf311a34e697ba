import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config/config.js';
import { replayTo } from '../src/history/snapshots.js';
import { liveHealthInputs } from '../src/health/health.service.js';
import { acquireLease, fence, renewLease } from '../src/lease/lease.sql.js';
import { recordAndClaim, recordTick } from '../src/worker/worker.sql.js';
import { createTestDb, TestDb } from './support/db.js';
import { events } from './support/queries.js';
import { createLoginRole, liveAndFolded, LoginRole } from './support/roles.js';

/**
 * Issue 15, less noise (issue 15): a renewal moves the lease row's
 * liveness columns with no event; every tick stays a TickRecorded event (one
 * ledger row per tick, as the SPEC has it). Every
 * lease transition and fencing rejection is still an event, the expiry is
 * still decided on the database clock, and only the worker's role can extend
 * a lease, through the renewal function.
 */
describe('liveness outside the log: renewals', () => {
  let t: TestDb;
  let op: LoginRole;
  let auditor: LoginRole;
  let svc: LoginRole;
  let admin: LoginRole;
  const count = async (where = 'true') =>
    (await t.db.query(`SELECT count(*)::int AS n FROM aol_events WHERE ${where}`)).rows[0]
      .n as number;
  const leaseRow = async () =>
    (await t.db.query('SELECT * FROM aol_lease')).rows[0] as
      { owner: string; epoch: number; renewed_at_utc: Date; expires_at_utc: Date } | undefined;
  const lastTick = async () =>
    (await t.db.query('SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1')).rows[0] as
      { seq: number; status: string; finished_at_utc: Date } | undefined;
  const idle = (notes = 'no due actions', status = 'SUCCESS', attempted = 0) => ({
    started_at: new Date().toISOString(),
    status,
    actions_attempted: attempted,
    actions_succeeded: 0,
    notes,
  });

  beforeAll(async () => {
    t = await createTestDb('liveness');
    op = await createLoginRole(t, 'op', ['aol_operator']);
    auditor = await createLoginRole(t, 'aud', ['aol_auditor']);
    svc = await createLoginRole(t, 'svc', ['aol_service']);
    admin = await createLoginRole(t, 'adm', ['aol_admin']);
  });
  afterAll(async () => {
    for (const r of [op, auditor, svc, admin]) await r.db.close();
    await t.db.close();
  });

  it('a renewal appends nothing and moves renewed_at/expires_at; a lost lease is refused on the database clock', async () => {
    const { epoch, acquired } = await acquireLease(t.db, 'w:1', 0.6);
    expect(acquired).toBe(true);
    const before = await count();
    const row0 = (await leaseRow())!;
    await new Promise((r) => setTimeout(r, 100));
    const exp = await renewLease(t.db, 'w:1', epoch, 0.6);
    expect(exp).not.toBeNull();
    const row1 = (await leaseRow())!;
    expect(row1.expires_at_utc.getTime()).toBe(exp!.getTime());
    expect(row1.expires_at_utc.getTime()).toBeGreaterThan(row0.expires_at_utc.getTime());
    expect(row1.renewed_at_utc.getTime()).toBeGreaterThan(row0.renewed_at_utc.getTime());
    expect(await count()).toBe(before);
    // the compare-and-set refuses another owner or epoch, and changes nothing
    expect(await renewLease(t.db, 'w:2', epoch, 600)).toBeNull();
    expect(await renewLease(t.db, 'w:1', epoch + 1, 600)).toBeNull();
    expect((await leaseRow())!.expires_at_utc).toEqual(row1.expires_at_utc);
    // the renewed expiry holds for the fence and against a takeover …
    expect(await fence(t.db, 'w:1', epoch, 'test')).toBe(true);
    expect((await acquireLease(t.db, 'w:2', 30)).acquired).toBe(false);
    // … and once it passes (database time), renewal and fence refuse, a standby takes over
    await new Promise((r) => setTimeout(r, 800));
    expect(await renewLease(t.db, 'w:1', epoch, 30)).toBeNull();
    expect(await fence(t.db, 'w:1', epoch, 'test')).toBe(false);
    const b = await acquireLease(t.db, 'w:2', 30);
    expect(b).toMatchObject({ acquired: true, epoch: epoch + 1 });
    const lease = await events(t.db, `stream = 'lease'`);
    expect(lease.map((e) => e.type)).toEqual([
      'LeaseAcquired',
      'FencedWriteRejected',
      'LeaseExpired',
      'LeaseAcquired',
    ]);
    expect(lease[2].data).toMatchObject({ owner: 'w:1', epoch, detected_by: 'w:2' });
    // the expiry recorded is the renewed one, not the acquisition's
    expect(new Date(lease[2].data.expired_at as string).getTime()).toBe(
      row1.expires_at_utc.getTime(),
    );
  });

  it('only the worker role extends a lease, and only through the renewal function (operator, auditor, admin cannot)', async () => {
    const l = (await leaseRow())!;
    for (const r of [op, auditor, admin]) {
      await expect(
        r.db.query('SELECT aol_lease_renew($1, $2, 3600)', [l.owner, l.epoch]),
      ).rejects.toThrow(/permission denied/);
      await expect(
        r.db.query(`UPDATE aol_lease SET expires_at_utc = expires_at_utc + interval '1 hour'`),
      ).rejects.toThrow(/permission denied/);
    }
    // the service role renews through the function, never by UPDATE
    await expect(
      svc.db.query(`UPDATE aol_lease SET expires_at_utc = expires_at_utc + interval '1 hour'`),
    ).rejects.toThrow(/permission denied/);
    const before = await count();
    expect(await renewLease(svc.db, l.owner, l.epoch, 30)).not.toBeNull();
    expect(await count()).toBe(before);
    expect((await leaseRow())!.expires_at_utc.getTime()).toBeGreaterThan(
      l.expires_at_utc.getTime(),
    );
    // the superuser's runbook UPDATE is refused too (only DELETE: a force release)
    await expect(
      t.db.query(`UPDATE aol_lease SET expires_at_utc = expires_at_utc + interval '1 hour'`),
    ).rejects.toThrow(/only DELETE FROM aol_lease/);
  });

  it('ticks: every tick is a TickRecorded event and a ledger row (SPEC); health reads the latest', async () => {
    const { epoch } = (await leaseRow())!;
    const ticks = () => count(`type = 'TickRecorded'`);
    const ledger = async () =>
      (await t.db.query('SELECT count(*)::int AS n FROM aol_tick_ledger')).rows[0].n as number;
    const before = { events: await ticks(), rows: await ledger() };
    expect(await recordTick(t.db, 'w:2', epoch, idle())).toBe(true);
    const first = (await lastTick())!;
    await new Promise((r) => setTimeout(r, 50));
    expect(await recordTick(t.db, 'w:2', epoch, idle())).toBe(true);
    expect(await recordTick(t.db, 'w:2', epoch, idle('paused', 'PAUSED'))).toBe(true);
    expect(await recordTick(t.db, 'w:2', epoch, idle('1/1 succeeded', 'SUCCESS', 1))).toBe(true);
    expect(await ticks()).toBe(before.events + 4);
    expect(await ledger()).toBe(before.rows + 4);
    const last = (await lastTick())!;
    expect(last.status).toBe('SUCCESS');
    expect(last.seq).toBeGreaterThan(first.seq);
    expect(last.finished_at_utc.getTime()).toBeGreaterThan(first.finished_at_utc.getTime());
    // health takes the last tick's time from the ledger
    const h = await liveHealthInputs(t.db);
    expect(new Date(h.lastTick!.finished_at).getTime()).toBe(last.finished_at_utc.getTime());
    // a replay (the log alone) holds the lease from each tick event of its epoch for a minute + the TTL
    const [beat] = (await events(t.db, `type = 'TickRecorded'`)).slice(-1);
    const replayed = await replayTo(t.db, beat.seq);
    expect(replayed.lease).toMatchObject({ owner: 'w:2', epoch });
    expect(new Date(replayed.lease!.expires_at).getTime()).toBe(
      new Date(beat.data.finished_at as string).getTime() + 90_000,
    );
    // a fenced tick writes neither an event nor a ledger row
    expect(await recordTick(t.db, 'w:1', epoch - 1, idle())).toBe(false);
    expect(await ticks()).toBe(before.events + 4);
    expect(await ledger()).toBe(before.rows + 4);
  });

  it('a rebuild equals the live read models except exactly the liveness columns, and keeps the live lease alive', async () => {
    const l = (await leaseRow())!;
    await renewLease(t.db, l.owner, l.epoch, 600);
    const renewed = (await leaseRow())!;
    // liveAndFolded leaves out LIVENESS_COLUMNS (test/support/roles.ts): aol_lease's renewed_at_utc and expires_at_utc
    const { live, folded } = await liveAndFolded(t.db);
    expect(folded).toEqual(live);
    expect(live.aol_lease).toEqual([
      expect.not.objectContaining({ expires_at_utc: expect.anything() }),
    ]);
    await t.db.query('SELECT aol_rebuild()');
    expect(await leaseRow()).toEqual(renewed);
    expect(await renewLease(t.db, l.owner, l.epoch, 30)).not.toBeNull();
  });

  it('an idle worker with the default intervals appends at most 150 events in an hour of database time', async () => {
    const db = (await createTestDb('idle_hour')).db;
    try {
      const config = loadConfig({});
      const tick = config.tickIntervalSeconds;
      const renewEvery = config.leaseTtlSeconds / 3;
      const owner = 'idle:1';
      const { epoch } = await acquireLease(db, owner, config.leaseTtlSeconds);
      const head = async () =>
        (await db.query(`SELECT coalesce(max(seq), 0)::int AS n FROM aol_events`)).rows[0].n;
      const start = await head();
      // one hour of the worker's schedule: renew every TTL/3, tick (claim, record) every interval;
      // health's clock is advanced between steps (each TestClockSet is the test's, not counted)
      let renewals = 0;
      let tickCount = 0;
      const step = Math.min(tick, renewEvery);
      for (let at = 0; at < 3600; at += step) {
        if (at > 0) await db.query('UPDATE aol_clock SET offset_seconds = $1', [at]);
        if (at % renewEvery === 0 && at > 0) {
          expect(await renewLease(db, owner, epoch, config.leaseTtlSeconds)).not.toBeNull();
          renewals++;
        }
        if (at % tick === 0) {
          expect(await recordAndClaim(db, owner, epoch, [], config.claimBatchSize, false)).toEqual({
            fenced: false,
            written: new Map(),
            claimed: [],
          });
          expect(await recordTick(db, owner, epoch, idle())).toBe(true);
          tickCount++;
        }
      }
      const n = (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM aol_events WHERE seq > $1 AND type <> 'TestClockSet'`,
          [start],
        )
      ).rows[0].n;
      expect([renewals, tickCount]).toEqual([3600 / renewEvery - 1, 3600 / tick]);
      // the acquisition is before `start`: count it too
      expect(n + 1).toBeLessThanOrEqual(150);
    } finally {
      await db.close();
    }
  }, 120000);
});
