// Database profile of the worker's statements at batch 1 and batch 200
// (docs/benchmarks.md section 3): wall time per statement from Node, the
// function profile (track_functions) and, with PROFILE_EXPLAIN=1, the nested
// EXPLAIN (ANALYZE, BUFFERS) of one statement (auto_explain at NOTICE level).
// node bench/profile-db.mjs <admin-url> [n] [batch] [mode: split|combined]
// (combined: the tick's one aol_record_and_claim per batch; split: the claim
// and the outcomes as two statements, aol_record_and_claim without outcomes
// and then with limit 0)
import { queuedClient, succeeded } from './lib.mjs';

const [admin, nArg, batchArg, mode = 'split'] = process.argv.slice(2);
const N = Number(nArg ?? 2000);
const B = Number(batchArg ?? 1);
const c = await queuedClient(admin, `bench_prof_${B}`, N);
const notices = [];
c.on('notice', (n) => notices.push(n.message));
const owner = 'prof';
const { rows: [l] } = await c.query('SELECT * FROM aol_lease_acquire($1, 600)', [owner]);
await c.query(`SET track_functions = 'all'`);
await c.query('SELECT pg_stat_reset()');
let claimMs = 0;
let outMs = 0;
let n = 0;
let explained = false;
const explain = async (on) => {
  if (!process.env.PROFILE_EXPLAIN) return;
  if (on) {
    await c.query(`LOAD 'auto_explain'`);
    await c.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET auto_explain.log_timing = on`);
  } else await c.query('SET auto_explain.log_min_duration = -1');
};
const t0 = performance.now();
let pending = [];
while (n < N) {
  const doExplain = !explained && n >= N / 2;
  if (doExplain) await explain(true);
  let t = performance.now();
  let claimed;
  if (mode === 'combined') {
    const { rows } = await c.query('SELECT * FROM aol_record_and_claim($1, $2, $3, $4, false)', [owner, l.epoch, succeeded(pending), B]);
    claimed = rows.filter((r) => r.kind === 'claimed');
    claimMs += performance.now() - t;
  } else {
    const { rows } = await c.query(`SELECT * FROM aol_record_and_claim($1, $2, '[]', $3, false)`, [owner, l.epoch, B]);
    claimed = rows;
    claimMs += performance.now() - t;
    t = performance.now();
    await c.query('SELECT * FROM aol_record_and_claim($1, $2, $3, 0, false)', [owner, l.epoch, succeeded(rows)]);
    outMs += performance.now() - t;
  }
  if (doExplain) {
    await explain(false);
    explained = true;
  }
  pending = claimed;
  if (claimed.length === 0) break;
  n += claimed.length;
}
if (mode === 'combined' && pending.length) await c.query('SELECT * FROM aol_record_and_claim($1, $2, $3, 0, false)', [owner, l.epoch, succeeded(pending)]);
const total = performance.now() - t0;
await new Promise((r) => setTimeout(r, 600)); // the stats collector flushes every 500 ms
const fns = await c.query(`SELECT funcname, calls, round(total_time::numeric, 1) AS total_ms, round(self_time::numeric, 1) AS self_ms,
  round((1000 * total_time / ${n})::numeric, 1) AS total_us_per_action, round((1000 * self_time / ${n})::numeric, 1) AS self_us_per_action
  FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 20`);
console.log(`batch ${B}, ${n} actions, mode ${mode}: ${(total / n * 1000).toFixed(0)} µs/action wall; claim ${(claimMs / n * 1000).toFixed(0)} µs, outcome ${(outMs / n * 1000).toFixed(0)} µs per action (Node-side wall)`);
console.table(fns.rows);
if (notices.length) console.log(notices.join('\n\n'));
await c.end();
