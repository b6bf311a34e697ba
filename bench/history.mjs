// history — state at any point (issue 15): GET /state?at= and GET
// /health/aol?at= at random points of a BENCH_HISTORY_EVENTS-event log
// (default 5,000,000), folded from the nearest snapshot (every
// AOL_SNAPSHOT_EVERY_EVENTS events, default 1,000), beside the full fold from
// seq 1 on the same log (a few samples: it takes seconds to minutes each).
// Target: p99 ≤ 100 ms.
import { Db } from '../dist/db/db.js';
import { replayTo, Snapshotter } from '../dist/history/snapshots.js';
import { freshDb, startApi, stats, table } from './lib.mjs';

/** A seeded PRNG (mulberry32), so two runs sample the same points. */
function rng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` events in set-based batches through aol_append_many (so the hash chain
 * and the projections are real): per action enqueued/started/succeeded, a
 * tick every 31 events, a lease renewal every 37, a pause or resume every 1,009.
 */
async function makeLog(db, n) {
  await db.query(
    `SELECT count(*) FROM aol_append_many(ARRAY['lease'], NULL, ARRAY['LeaseAcquired'],
       ARRAY[jsonb_build_object('owner', 'b:1', 'epoch', 1, 'acquired_at', now(), 'expires_at', now() + interval '1 day', 'ttl_seconds', 86400)],
       ARRAY['{"actor":"bench","via":"worker"}'::jsonb])`,
  );
  const { rows } = await db.query(`SELECT max(seq)::bigint AS s FROM aol_events`);
  const per = 5000;
  let made = rows[0].s;
  const id0 = 1_000_000;
  while (made < n) {
    const k = Math.min(per, n - made);
    await db.query(
      `SELECT count(*)
         FROM (SELECT array_agg(s.stream ORDER BY s.g) AS st, array_agg(s.type ORDER BY s.g) AS ty,
                      array_agg(s.data ORDER BY s.g) AS da, array_agg('{"actor":"bench","via":"worker"}'::jsonb) AS me
         FROM (
           SELECT g,
             CASE WHEN g % 1009 = 0 THEN 'control' WHEN g % 37 = 0 THEN 'lease' WHEN g % 31 = 0 THEN 'tick'
                  ELSE 'action:' || ((g / 3) + $3) END AS stream,
             CASE WHEN g % 1009 = 0 THEN (CASE WHEN (g / 1009) % 2 = 0 THEN 'ControlPaused' ELSE 'ControlResumed' END)
                  WHEN g % 37 = 0 THEN 'LeaseRenewed' WHEN g % 31 = 0 THEN 'TickRecorded'
                  WHEN g % 3 = 0 THEN 'ActionEnqueued' WHEN g % 3 = 1 THEN 'ActionStarted' ELSE 'ActionSucceeded' END AS type,
             CASE WHEN g % 1009 = 0 THEN '{}'::jsonb
                  WHEN g % 37 = 0 THEN jsonb_build_object('owner', 'b:1', 'epoch', 1, 'expires_at', now() + interval '1 day')
                  WHEN g % 31 = 0 THEN jsonb_build_object('started_at', now(), 'finished_at', now(), 'status', 'SUCCESS',
                    'actions_attempted', 1, 'actions_succeeded', 1, 'notes', '', 'worker', 'b:1', 'epoch', 1)
                  WHEN g % 3 = 0 THEN jsonb_build_object('id', (g / 3) + $3, 'idempotency_key', 'k' || ((g / 3) + $3),
                    'action_type', 'NOOP', 'payload', '{}'::jsonb, 'not_before', now())
                  WHEN g % 3 = 1 THEN jsonb_build_object('attempt', 1, 'worker', 'b:1', 'epoch', 1, 'proof_mode', false)
                  ELSE jsonb_build_object('attempt', 1, 'message', 'no-op') END AS data
             FROM generate_series($1::bigint, $1::bigint + $2 - 1) g) s) a,
              aol_append_many(a.st, NULL, a.ty, a.da, a.me)`,
      [made, k, id0],
    );
    made += k;
  }
  return made;
}

async function timed(fn) {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

export async function history(admin, results) {
  const n = Number(process.env.BENCH_HISTORY_EVENTS ?? 5_000_000);
  const samples = Number(process.env.BENCH_HISTORY_SAMPLES ?? 200);
  const fullSamples = Number(process.env.BENCH_HISTORY_FULL_SAMPLES ?? 3);
  const every = Number(process.env.AOL_SNAPSHOT_EVERY_EVENTS ?? 1000);
  const { db, url } = await freshDb(admin, 'bench_history');
  let api;
  try {
    const [genMs, head0] = await timed(() => makeLog(db, n));
    // the API's own snapshotter would catch up the same way; timed here
    const snapshotter = new Snapshotter(db, { everyEvents: every, metadata: { actor: 'bench', via: 'worker' }, log: () => undefined });
    const [snapMs, taken] = await timed(() => snapshotter.catchUp());
    const head = Number((await db.query('SELECT max(seq) AS s FROM aol_events')).rows[0].s);
    api = await startApi(url, { AOL_REPLAY_RATE_PER_MINUTE: '1000000', AOL_SNAPSHOT_EVERY_EVENTS: String(every) });
    const rand = rng(6962);
    const points = Array.from({ length: samples }, () => 1 + Math.floor(rand() * head));
    const get = async (path) => {
      const t0 = performance.now();
      const r = await fetch(`${api.url}${path}`);
      const body = await r.json();
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(body)}`);
      return [performance.now() - t0, body];
    };
    for (const p of points.slice(0, 5)) await get(`/state?at=${p}`); // warm up
    const state = [];
    const health = [];
    for (const p of points) {
      state.push((await get(`/state?at=${p}`))[0]);
      health.push((await get(`/health/aol?at=${p}`))[0]);
    }
    // the full fold from seq 1, in this process (what every ?at= did before snapshots)
    const full = [];
    const fullPoints = points.slice(0, fullSamples);
    const check = new Db(url, { max: 2 });
    try {
      for (const p of fullPoints) {
        const [ms, s] = await timed(() => replayTo(check, p, { snapshots: false }));
        full.push(ms);
        const fromSnap = await replayTo(check, p);
        if (JSON.stringify(fromSnap) !== JSON.stringify(s)) throw new Error(`fold from a snapshot differs from the full fold at seq ${p}`);
      }
    } finally {
      await check.close();
    }
    const rows = [
      { measure: 'GET /state?at= (from the nearest snapshot)', n: state.length, ...stats(state) },
      { measure: 'GET /health/aol?at= (from the nearest snapshot)', n: health.length, ...stats(health) },
      { measure: 'full fold from seq 1 (replayTo, snapshots off; same points)', n: full.length, ...stats(full) },
    ].map(({ measure, n: k, p50, p99, max }) => ({ measure, n: k, 'p50 ms': p50, 'p99 ms': p99, 'max ms': max }));
    table(`history: state at random points of a ${head.toLocaleString('en')}-event log, a snapshot every ${every} events`, rows);
    console.log(
      `(making the log: ${head0.toLocaleString('en')} events in ${(genMs / 1000).toFixed(0)} s; ${taken} snapshots in ${(snapMs / 1000).toFixed(1)} s, ` +
        `${Math.round(head0 / (snapMs / 1000)).toLocaleString('en')} events/s)`,
    );
    const p99 = Math.max(stats(state).p99, stats(health).p99);
    console.log(`p99 ${p99.toFixed(0)} ms (target ≤ 100 ms: ${p99 <= 100 ? 'met' : 'NOT met'}); full folds matched the snapshot folds at ${full.length} points`);
    results.history = { events: head, every, rows, snapshots: taken, snapshot_secs: snapMs / 1000, make_secs: genMs / 1000 };
  } finally {
    await api?.child.kill('SIGTERM');
    await api?.exited;
    await db.close();
  }
}
