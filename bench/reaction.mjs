// 1. reaction — a control change committed (REST, CLI, runbook SQL) → the
// running worker has applied it (ControlAcknowledged.delay_ms: database time
// from the change's commit to the acknowledgement). Anchors: the raw NOTIFY
// round trip with pg-listen on the same server (the floor), graphile-worker's
// job pickup (commit → handler start), and the original worker's 5-second
// polling (expected, and measured).
import { join } from 'node:path';
import pg from 'pg';
import pgListen from 'pg-listen';
import { run as runGraphile } from 'graphile-worker';
import { freshDb, graphileLogger, ROOT, sleep, spawnNode, startApi, startWorker, stats, table, waitFor } from './lib.mjs';

const createSubscriber = pgListen.default ?? pgListen;

async function ackWaiter(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  let waiting;
  c.on('notification', (n) => {
    const p = JSON.parse(n.payload);
    if (p.type === 'ControlAcknowledged' && waiting) waiting();
  });
  await c.query('LISTEN aol_events');
  return {
    next: () => new Promise((r) => (waiting = r)),
    close: () => c.end(),
  };
}

async function door(name, n, db, change) {
  const versions = [];
  const waiter = await ackWaiter(db.url);
  try {
    for (let i = 0; i < n; i++) {
      const acked = waiter.next();
      versions.push(await change(i % 2 === 0 ? 'pause' : 'resume'));
      await Promise.race([acked, sleep(5000)]);
    }
  } finally {
    await waiter.close();
  }
  // ControlAcknowledged.delay_ms runs from the change's append (its occurred_at)
  // to the acknowledgement. With track_commit_timestamp on (the embedded
  // server here), the time from the change's COMMIT is that minus the
  // append → commit gap, which is the writer's own transaction time (for the
  // CLI, a freshly started process finishing its transaction).
  const commitTs = (await db.db.query(`SELECT current_setting('track_commit_timestamp') = 'on' AS on`)).rows[0].on;
  const { rows } = await db.db.query(
    `SELECT (a.data->>'delay_ms')::float8 AS from_append,
            ${commitTs ? `(a.data->>'delay_ms')::float8 - extract(epoch FROM pg_xact_commit_timestamp(c.xmin) - c.occurred_at)::float8 * 1000` : 'NULL::float8'} AS from_commit
       FROM aol_events a JOIN aol_events c ON c.stream = 'control' AND c.stream_version = (a.data->>'control_version')::int
      WHERE a.type = 'ControlAcknowledged' AND (a.data->>'control_version')::int = ANY($1)`,
    [versions],
  );
  const fromAppend = stats(rows.map((r) => r.from_append));
  const s = commitTs ? stats(rows.map((r) => r.from_commit)) : fromAppend;
  return { name, ...s, fromAppend, basis: commitTs ? 'commit' : 'append', acked: `${rows.length}/${n}` };
}

async function notifyFloor(url, n) {
  const sub = createSubscriber({ connectionString: url }, {});
  await sub.connect();
  await sub.listenTo('bench_floor');
  const sender = new pg.Client({ connectionString: url });
  await sender.connect();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const got = new Promise((r) => sub.notifications.once('bench_floor', r));
    const t0 = performance.now();
    await sender.query(`SELECT pg_notify('bench_floor', $1)`, [String(i)]);
    await got;
    samples.push(performance.now() - t0);
  }
  await sender.end();
  await sub.close();
  return samples;
}

/**
 * The floor measured like AOL's reaction: a NOTIFY sent by a transaction that
 * writes, from that transaction's commit timestamp to a listener having it.
 * It includes what every change pays before anyone can see it — the WAL flush
 * of its commit (synchronous_commit = on) — which the raw round trip above,
 * a NOTIFY from a transaction that writes nothing, does not. Null without
 * track_commit_timestamp.
 */
async function committedNotifyFloor(url, n) {
  const sender = new pg.Client({ connectionString: url });
  await sender.connect();
  if ((await sender.query(`SELECT current_setting('track_commit_timestamp') = 'on' AS on`)).rows[0].on !== true) {
    await sender.end();
    return null;
  }
  const sub = createSubscriber({ connectionString: url }, {});
  await sub.connect();
  await sub.listenTo('bench_floor_w');
  await sender.query('CREATE TABLE IF NOT EXISTS bench_floor_w (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
  const seen = [];
  for (let i = 0; i < n; i++) {
    const got = new Promise((r) => sub.notifications.once('bench_floor_w', (x) => r([x, performance.timeOrigin + performance.now()])));
    await sender.query(`WITH w AS (INSERT INTO bench_floor_w DEFAULT VALUES RETURNING xmin::text AS x) SELECT pg_notify('bench_floor_w', (SELECT x FROM w))`);
    seen.push(await got);
  }
  const { rows } = await sender.query(
    `SELECT x, extract(epoch FROM pg_xact_commit_timestamp(x::xid))::float8 * 1000 AS ms FROM unnest($1::text[]) x`,
    [seen.map(([x]) => String(x))],
  );
  const committedAt = new Map(rows.map((r) => [r.x, r.ms]));
  await sender.query('DROP TABLE bench_floor_w');
  await sender.end();
  await sub.close();
  return seen.map(([x, at]) => at - committedAt.get(String(x)));
}

async function graphilePickup(url, n) {
  const started = new Map();
  const runner = await runGraphile({
    connectionString: url,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: graphileLogger,
    taskList: { pickup: async (p) => started.set(p.i, performance.now()) },
  });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await c.query(`SELECT graphile_worker.add_job('pickup', json_build_object('i', $1::int))`, [i]);
    await waitFor(async () => started.has(i), 10000, 'graphile pickup');
    samples.push(started.get(i) - t0);
  }
  await c.end();
  await runner.stop();
  return samples;
}

/** The original worker: a loop reading the flags every 5 s. A change lands at a random moment of the interval. */
async function pollingMeasured(db, n) {
  let seen = (await db.query('SELECT version FROM aol_control_flags')).rows[0].version;
  const detected = new Map();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const { rows } = await db.query('SELECT version FROM aol_control_flags');
      if (rows[0].version !== seen) detected.set(rows[0].version, performance.now());
      seen = rows[0].version;
      await sleep(5000);
    }
  })();
  const samples = [];
  for (let i = 0; i < n; i++) {
    await sleep(Math.random() * 5000);
    const t0 = performance.now();
    await db.query(`UPDATE aol_control_flags SET paused = NOT paused WHERE id = 1`);
    const { rows } = await db.query('SELECT version FROM aol_control_flags');
    await waitFor(async () => detected.has(rows[0].version), 7000, 'poll');
    samples.push(detected.get(rows[0].version) - t0);
  }
  stop = true;
  await loop;
  return samples;
}

export async function reaction(admin, results) {
  const n = Number(process.env.BENCH_CHANGES ?? 1000);
  const cliN = Number(process.env.BENCH_CLI_CHANGES ?? 1000);
  const { url, db } = await freshDb(admin, 'bench_reaction');
  const worker = startWorker(url, { AOL_TICK_INTERVAL_SECONDS: '30' });
  const api = await startApi(url);
  try {
    await waitFor(async () => (await db.query('SELECT 1 FROM aol_lease')).rowCount === 1, 30000, 'worker active');
    await sleep(500);
    const ctx = { url, db };
    const rows = [];
    rows.push(
      await door('REST POST /control/pause|resume', n, ctx, async (c) => {
        const r = await fetch(`${api.url}/control/${c}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"bench"}' });
        return (await r.json()).version;
      }),
    );
    rows.push(
      await door('runbook SQL UPDATE aol_control_flags', n, ctx, async (c) => {
        await db.query(`UPDATE aol_control_flags SET paused = ${c === 'pause'} WHERE id = 1`);
        return (await db.query('SELECT version FROM aol_control_flags')).rows[0].version;
      }),
    );
    rows.push(
      await door(`CLI aol pause|resume (${cliN} changes)`, cliN, ctx, async (c) => {
        const p = spawnNode([join(ROOT, 'dist', 'cli.js'), c, '--reason', 'bench', '--json'], { DATABASE_URL: url });
        await p.exited;
        return JSON.parse(p.output()).version;
      }),
    );
    const floor = stats(await notifyFloor(url, n));
    const committed = await committedNotifyFloor(url, n).then((v) => v && stats(v));
    const graphile = stats(await graphilePickup(url, Math.min(n, 300)));
    const polled = stats(await pollingMeasured(db, Number(process.env.BENCH_POLL_SAMPLES ?? 8)));
    const out = [
      ...rows.map((r) => ({ measure: `AOL: ${r.name}`, n: r.n, p50_ms: r.p50, p99_ms: r.p99, max_ms: r.max, 'p99 vs 5 ms target': r.p99 <= 5 ? 'met' : 'NOT met', acked: r.acked, 'from append p50/p99': `${r.fromAppend.p50} / ${r.fromAppend.p99}` })),
      { measure: 'floor: raw NOTIFY round trip (pg-listen)', n: floor.n, p50_ms: floor.p50, p99_ms: floor.p99, max_ms: floor.max, 'p99 vs 5 ms target': '', acked: '', 'from append p50/p99': '' },
      ...(committed ? [{ measure: 'floor: a committed write\'s NOTIFY, commit timestamp → listener', n: committed.n, p50_ms: committed.p50, p99_ms: committed.p99, max_ms: committed.max, 'p99 vs 5 ms target': committed.p99 <= 5 ? 'met' : 'NOT met', acked: '', 'from append p50/p99': '' }] : []),
      { measure: 'graphile-worker 0.17 pickup (commit → handler)', n: graphile.n, p50_ms: graphile.p50, p99_ms: graphile.p99, max_ms: graphile.max, 'p99 vs 5 ms target': '', acked: '', 'from append p50/p99': '' },
      { measure: 'original 5 s polling: expected (uniform 0–5 s)', n: '-', p50_ms: 2500, p99_ms: 4950, max_ms: 5000, 'p99 vs 5 ms target': '', acked: '', 'from append p50/p99': '' },
      { measure: 'original 5 s polling: measured', n: polled.n, p50_ms: polled.p50, p99_ms: polled.p99, max_ms: polled.max, 'p99 vs 5 ms target': '', acked: '', 'from append p50/p99': '' },
    ];
    table(`reaction: control change committed → applied by the running worker (ms; AOL from each change's ${rows[0].basis === 'commit' ? 'commit timestamp' : 'append (track_commit_timestamp is off)'})`, out);
    const best = Math.min(...rows.map((r) => r.p50));
    console.log(`ratio: AOL p50 is ${(best / floor.p50).toFixed(1)}× the NOTIFY floor; the 5 s poll's expected p50 is ${(2500 / best).toFixed(0)}× AOL's`);
    if (committed)
      console.log(`a committed write's NOTIFY alone (the WAL flush of its commit included, as in AOL's figures): p50 ${committed.p50.toFixed(2)} ms, p99 ${committed.p99.toFixed(2)} ms; AOL's own share of the p50 (the worker's read, apply and acknowledgement): ${(best - committed.p50).toFixed(2)} ms`);
    results.reaction = { rows: out };
  } finally {
    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    await worker.exited;
    await db.close();
  }
}

/** 2. kill — kill of an idle worker → process exited. */
export async function kill(admin, results) {
  const { url, db } = await freshDb(admin, 'bench_kill');
  const samples = [];
  try {
    for (let i = 0; i < Number(process.env.BENCH_KILL_RUNS ?? 20); i++) {
      await db.query('UPDATE aol_control_flags SET killed = false WHERE id = 1');
      const w = startWorker(url, { AOL_TICK_INTERVAL_SECONDS: '30' });
      await waitFor(async () => (await db.query(`SELECT 1 FROM aol_tick_ledger WHERE worker = $1`, [w.id])).rowCount > 0, 30000, 'idle worker');
      const exited = w.exited.then(() => performance.now());
      await db.query('UPDATE aol_control_flags SET killed = true WHERE id = 1');
      const t0 = performance.now();
      samples.push((await exited) - t0);
    }
  } finally {
    await db.close();
  }
  const s = stats(samples);
  table('kill: kill committed (runbook SQL) → idle worker process exited (ms)', [{ runs: s.n, p50_ms: s.p50, max_ms: s.max, target_ms: 100, result: s.max <= 100 ? 'met' : s.p50 <= 100 ? 'p50 met, max NOT met' : 'NOT met' }]);
  results.kill = { samples, ...s };
}
