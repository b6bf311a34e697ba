// 3. throughput — 20,000 no-op actions in real mode through one worker, every
// one through the event log, the projections and the fence; beside
// graphile-worker and pg-boss doing 20,000 no-op jobs on the same server.
// 8. memory — peak RSS of the API and the worker, idle and during the run.
import pg from 'pg';
import PgBoss from 'pg-boss';
import { run as runGraphile } from 'graphile-worker';
import { enqueueMany, freshDb, graphileLogger, queuedClient, recordAndClaimLoop, rss, sleep, startApi, startWorker, table, waitFor } from './lib.mjs';

/** Read when a benchmark runs, so `--quick` (bench/run.mjs) can lower it. */
const actionCount = () => Number(process.env.BENCH_ACTIONS ?? 20000);

async function aol(admin, label, env, memory) {
  const N = actionCount();
  const { url, db } = await freshDb(admin, `bench_tp_${label}`);
  await db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
  await enqueueMany(db, N);
  const api = await startApi(url);
  const worker = startWorker(url, { AOL_PROOF_MODE: 'false', AOL_TICK_INTERVAL_SECONDS: '0.01', AOL_MAX_TICK_SECONDS: '60', ...env });
  let peakApi = 0;
  const poll = setInterval(() => {
    void fetch(`${api.url}/health/aol`).catch(() => undefined);
    peakApi = Math.max(peakApi, rss(api.child.pid).peak_mb);
  }, 200);
  await waitFor(async () => {
    if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.output()}`);
    return (await db.query(`SELECT n FROM aol_queue_counts WHERE status = 'SUCCESS'`)).rows[0].n >= N;
  }, 600000, 'all done');
  clearInterval(poll);
  // Database time from the first action started to the last one succeeded: the worker's own start-up is not counted.
  const span = await db.query(
    `SELECT extract(epoch FROM max(occurred_at) FILTER (WHERE type = 'ActionSucceeded') - min(occurred_at) FILTER (WHERE type = 'ActionStarted'))::float8 AS s FROM aol_events`,
  );
  const secs = span.rows[0].s;
  memory.push({ process: `worker (${label})`, phase: `during ${N} actions`, ...rss(worker.child.pid) });
  memory.push({ process: 'API', phase: `during ${N} actions (polling /health/aol)`, rss_mb: rss(api.child.pid).rss_mb, peak_mb: peakApi });
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM aol_events WHERE stream LIKE 'action:%'`);
  worker.child.kill('SIGTERM');
  api.child.kill('SIGTERM');
  await worker.exited;
  await db.close();
  return { secs, per_s: N / secs, events: rows[0].n };
}

/**
 * AOL's ceiling at a batch size: the worker's statements alone (lib.mjs
 * recordAndClaimLoop), from one connection, no worker process, no attempt
 * run — what no change to the worker can beat without changing the
 * database work per action (docs/benchmarks.md §3).
 */
async function statementsAlone(admin, batch) {
  const N = actionCount();
  const c = await queuedClient(admin, `bench_tp_sql_${batch}`, N);
  try {
    const t0 = performance.now();
    const done = await recordAndClaimLoop(c, batch);
    const secs = (performance.now() - t0) / 1000;
    if (done !== N) throw new Error(`statements alone: ${done} of ${N} actions done`);
    return { secs, per_s: N / secs };
  } finally {
    await c.end();
  }
}

async function graphile(admin, label, opts) {
  const N = actionCount();
  const { url, db } = await freshDb(admin, `bench_tp_gw_${label}`);
  await db.close();
  let done = 0;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // install the schema, then add the jobs before starting the clock
  const warm = await runGraphile({ connectionString: url, concurrency: 1, noHandleSignals: true, logger: graphileLogger, taskList: { noop: async () => undefined } });
  await warm.stop();
  for (let i = 0; i < N; i += 1000) {
    await c.query(`SELECT graphile_worker.add_job('noop', '{}'::json) FROM generate_series(1, $1)`, [Math.min(1000, N - i)]);
  }
  const t0 = performance.now();
  const runner = await runGraphile({ connectionString: url, noHandleSignals: true, logger: graphileLogger, taskList: { noop: async () => void done++ }, ...opts });
  await waitFor(async () => done >= N, 600000, 'graphile done');
  const secs = (performance.now() - t0) / 1000;
  await runner.stop();
  await c.end();
  return { secs, per_s: N / secs };
}

async function pgBoss(admin) {
  const N = actionCount();
  const { url, db } = await freshDb(admin, 'bench_tp_pgboss');
  await db.close();
  const boss = new PgBoss({ connectionString: url });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue('noop');
  for (let i = 0; i < N; i += 1000) await boss.insert(Array.from({ length: Math.min(1000, N - i) }, () => ({ name: 'noop', data: {} })));
  let done = 0;
  const t0 = performance.now();
  await boss.work('noop', { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => void (done += jobs.length));
  await waitFor(async () => done >= N, 600000, 'pg-boss done');
  const secs = (performance.now() - t0) / 1000;
  await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
  return { secs, per_s: N / secs };
}

export async function throughput(admin, results) {
  const N = actionCount();
  const memory = [];
  const apiIdle = await (async () => {
    const { url, db } = await freshDb(admin, 'bench_mem_idle');
    const api = await startApi(url);
    const w = startWorker(url, { AOL_TICK_INTERVAL_SECONDS: '30' });
    await sleep(3000);
    const out = [
      { process: 'API', phase: 'idle', ...rss(api.child.pid) },
      { process: 'worker', phase: 'idle', ...rss(w.child.pid) },
    ];
    api.child.kill('SIGTERM');
    w.child.kill('SIGTERM');
    await w.exited;
    await db.close();
    return out;
  })();
  memory.push(...apiIdle);
  const one = await aol(admin, 'c1', { AOL_MAX_ACTIONS_PER_TICK: '100000' }, memory);
  const best = await aol(admin, 'best', { AOL_MAX_ACTIONS_PER_TICK: '100000', AOL_CLAIM_BATCH_SIZE: '200', AOL_WORKER_CONCURRENCY: '50' }, memory);
  const sql1 = await statementsAlone(admin, 1);
  const sql200 = await statementsAlone(admin, 200);
  const gw1 = await graphile(admin, 'c1', { concurrency: 1 });
  const gw10 = await graphile(admin, 'c10', { concurrency: 10, preset: { worker: { localQueue: { size: 100 }, completeJobBatchDelay: 0 } } });
  const boss = await pgBoss(admin);
  const rows = [
    { system: 'AOL, 1 at a time (batch 1, concurrency 1)', setting: 'matches graphile-worker c=1', secs: one.secs, 'jobs/s': one.per_s, 'peer jobs/s': gw1.per_s, ratio: one.per_s / gw1.per_s, 'target ≥1.0×': one.per_s / gw1.per_s >= 1 ? 'met' : 'NOT met' },
    { system: 'AOL, best (batch 200, concurrency 50)', setting: 'vs graphile-worker c=10, localQueue 100', secs: best.secs, 'jobs/s': best.per_s, 'peer jobs/s': gw10.per_s, ratio: best.per_s / gw10.per_s, 'target ≥1.0×': best.per_s / gw10.per_s >= 1 ? 'met' : 'NOT met' },
    { system: 'AOL, best (batch 200, concurrency 50)', setting: 'vs pg-boss batchSize 100', secs: best.secs, 'jobs/s': best.per_s, 'peer jobs/s': boss.per_s, ratio: best.per_s / boss.per_s, 'target ≥1.0×': best.per_s / boss.per_s >= 1 ? 'met' : 'NOT met' },
    { system: 'ceiling: the same statements alone (aol_record_and_claim loop, batch 1)', setting: 'vs graphile-worker c=1', secs: sql1.secs, 'jobs/s': sql1.per_s, 'peer jobs/s': gw1.per_s, ratio: sql1.per_s / gw1.per_s, 'target ≥1.0×': '' },
    { system: 'ceiling: the same statements alone (batch 200)', setting: 'vs graphile-worker c=10, localQueue 100', secs: sql200.secs, 'jobs/s': sql200.per_s, 'peer jobs/s': gw10.per_s, ratio: sql200.per_s / gw10.per_s, 'target ≥1.0×': '' },
    { system: 'graphile-worker 0.17, concurrency 1', setting: '', secs: gw1.secs, 'jobs/s': gw1.per_s, 'peer jobs/s': '', ratio: '', 'target ≥1.0×': '' },
    { system: 'graphile-worker 0.17, c=10, localQueue 100, completeJobBatchDelay 0', setting: '', secs: gw10.secs, 'jobs/s': gw10.per_s, 'peer jobs/s': '', ratio: '', 'target ≥1.0×': '' },
    { system: 'pg-boss 10, batchSize 100', setting: '', secs: boss.secs, 'jobs/s': boss.per_s, 'peer jobs/s': '', ratio: '', 'target ≥1.0×': '' },
  ];
  table(`throughput: ${N} no-op actions in real mode, one worker (each AOL action = ${(one.events / N).toFixed(0)} events: enqueued, started, succeeded)`, rows);
  table('memory: resident set size (MB)', memory);
  console.log(`the worker reaches ${((one.per_s / sql1.per_s) * 100).toFixed(0)}% of its statements' ceiling at batch 1 and ${((best.per_s / sql200.per_s) * 100).toFixed(0)}% at batch 200 (concurrency 50)`);
  results.throughput = { rows, aol: { one, best }, ceiling: { sql1, sql200 }, peers: { gw1, gw10, boss } };
  results.memory = memory;
}
