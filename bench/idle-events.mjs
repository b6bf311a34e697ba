// idle — how many events an idle worker appends in an hour, default intervals
// (AOL_TICK_INTERVAL_SECONDS 30, AOL_LEASE_TTL_SECONDS 30: a renewal every 10 s).
//
// 1. An hour on the database clock: the idle worker's schedule, played through
//    the worker's own SQL calls (dist/lease/lease.sql.js, dist/worker/worker.sql.js:
//    renew every TTL/3; claim (aol_record_and_claim without outcomes), then
//    record the idle tick, every tick interval),
//    with health's clock aol_now() advanced step by step through aol_clock
//    (the test clock; lease expiry stays on clock_timestamp()). Counted: every event after the acquisition,
//    plus the acquisition, minus the bench's own TestClockSet events.
// 2. A real worker process, default intervals, for BENCH_IDLE_SECONDS of real
//    time (default 120; --quick 35): the events it appended, its ticks and
//    renewals (from the liveness columns), and that window scaled to an hour.
import { loadConfig } from '../dist/config/config.js';
import { acquireLease, renewLease } from '../dist/lease/lease.sql.js';
import { recordAndClaim, recordTick } from '../dist/worker/worker.sql.js';
import { freshDb, sleep, startWorker, table, waitFor } from './lib.mjs';

const idleTick = () => ({ started_at: new Date().toISOString(), status: 'SUCCESS', actions_attempted: 0, actions_succeeded: 0, notes: 'no due actions' });

const byType = async (db, after, until = null) => {
  const { rows } = await db.query(
    `SELECT type, count(*)::int AS n FROM aol_events WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2) AND type <> 'TestClockSet'
      GROUP BY type ORDER BY type`,
    [after, until],
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
};
const total = (o) => Object.values(o).reduce((a, b) => a + b, 0);
const head = async (db) => Number((await db.query('SELECT coalesce(max(seq), 0) AS n FROM aol_events')).rows[0].n);

export async function idle(admin, results) {
  const config = loadConfig({});
  const tick = config.tickIntervalSeconds;
  const ttl = config.leaseTtlSeconds;
  const renewEvery = ttl / 3;
  const rows = [];

  // 1. one hour of database time
  {
    const { db } = await freshDb(admin, 'bench_idle_clock');
    try {
      const owner = 'bench-idle:1';
      const start = await head(db);
      const { epoch } = await acquireLease(db, owner, ttl);
      let renewals = 0;
      let ticks = 0;
      const step = Math.min(tick, renewEvery);
      for (let at = 0; at < 3600; at += step) {
        if (at > 0) await db.query('UPDATE aol_clock SET offset_seconds = $1', [at]);
        if (at > 0 && at % renewEvery === 0) {
          if ((await renewLease(db, owner, epoch, ttl)) === null) throw new Error('renewal refused');
          renewals++;
        }
        if (at % tick === 0) {
          const claim = await recordAndClaim(db, owner, epoch, [], config.claimBatchSize, false);
          if (claim.fenced || claim.claimed.length) throw new Error(claim.fenced ? 'claim fenced' : 'claimed work');
          if (!(await recordTick(db, owner, epoch, idleTick()))) throw new Error('tick fenced');
          ticks++;
        }
      }
      const types = await byType(db, start);
      rows.push({ run: '1 h of database time (aol_clock advanced)', ticks, renewals, events: total(types), events_per_hour: total(types), by_type: JSON.stringify(types) });
    } finally {
      await db.close();
    }
  }

  // 2. a real worker for a bounded real time
  {
    const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 120);
    const { url, db } = await freshDb(admin, 'bench_idle_real');
    const w = startWorker(url, { AOL_TICK_INTERVAL_SECONDS: String(tick), AOL_LEASE_TTL_SECONDS: String(ttl) });
    try {
      const start = await head(db);
      await waitFor(async () => (await db.query('SELECT 1 FROM aol_tick_ledger')).rows.length, 30000, 'first tick');
      const t0 = Date.now();
      const renewedAt = new Set();
      while (Date.now() - t0 < seconds * 1000) {
        const { rows: l } = await db.query('SELECT renewed_at_utc, acquired_at_utc FROM aol_lease');
        if (l[0] && l[0].renewed_at_utc.getTime() !== l[0].acquired_at_utc.getTime()) renewedAt.add(l[0].renewed_at_utc.getTime());
        await sleep(1000);
      }
      const end = await head(db);
      const { rows: lv } = await db.query('SELECT count(*) AS ticks FROM aol_tick_ledger');
      const all = await byType(db, start, end);
      // the startup (acquisition, first tick) happens once; the rest is the steady rate
      const first = Number((await db.query(`SELECT min(seq) AS s FROM aol_events WHERE seq > $1 AND type = 'TickRecorded'`, [start])).rows[0].s);
      const steady = total(await byType(db, first, end));
      rows.push({
        run: `real worker, ${seconds} s of real time`,
        ticks: Number(lv[0].ticks),
        renewals: renewedAt.size,
        events: total(all),
        events_per_hour: Math.round(1 + (steady * 3600) / seconds),
        by_type: JSON.stringify(all),
      });
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
      await db.close();
    }
  }
  table(`idle: events an idle worker appends (tick ${tick} s, lease TTL ${ttl} s; target ≤ 150 events/h; before issue 15: ${3600 / renewEvery + 3600 / tick} + 1/h)`, rows);
  console.log('  (real run: events_per_hour = 1 acquisition + the events after the first tick, scaled to an hour; the database-clock hour is the figure)');
  results.idle = { rows };
}
