// `npm run bench` (everything) or `npm run bench -- <name> [<name>…]`.
// One PostgreSQL for the whole run — BENCH_DATABASE_URL, or an embedded one —
// so every figure sits beside its anchors measured on the same server, in the
// same run. Raw results go to bench/results/ (git-ignored).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dist/db/embedded.js';
import { ROOT } from './lib.mjs';
import { kill, reaction } from './reaction.mjs';
import { throughput } from './throughput.mjs';
import { append, health, replay } from './storage.mjs';
import { failover } from './failover.mjs';
import { history } from './history.mjs';
import { overload, restarts, stalled } from './faults.mjs';
import { presence } from './presence.mjs';
import { idle } from './idle-events.mjs';
import { schedules } from './schedules.mjs';
import { archiveBench } from './archive.mjs';

const ALL = {
  reaction,
  kill,
  throughput,
  health,
  replay,
  history,
  append,
  failover,
  restarts,
  stalled,
  overload,
  presence,
  idle,
  schedules,
  archive: archiveBench,
};
const args = process.argv.slice(2).filter((a) => a !== '--');
// --quick: every benchmark with small samples, so CI can check they run and
// print (under 2 minutes); its timings mean nothing. BENCH_* variables still win.
const quick = args.includes('--quick');
if (quick) {
  const small = {
    BENCH_CHANGES: '40',
    BENCH_CLI_CHANGES: '5',
    BENCH_POLL_SAMPLES: '1',
    BENCH_KILL_RUNS: '3',
    BENCH_ACTIONS: '1000',
    BENCH_HEALTH_REQUESTS: '300',
    BENCH_ROWS: '20000',
    BENCH_EVENTS: '20000',
    BENCH_HISTORY_EVENTS: '20000',
    BENCH_HISTORY_SAMPLES: '50',
    BENCH_APPENDS: '400',
    BENCH_FAILOVER_RUNS: '2',
    BENCH_RESTARTS: '2',
    BENCH_STALLED_MB: '8',
    BENCH_STALLED_SECONDS: '4',
    BENCH_OVERLOAD_EVENTS: '1000',
    BENCH_OVERLOAD_REQUESTS: '200',
    BENCH_PRESENCE_RUNS: '2',
    BENCH_IDLE_SECONDS: '35',
    BENCH_SCHEDULES: '50',
    BENCH_SCHEDULE_ROUNDS: '2',
    BENCH_ARCHIVE_EVENTS: '20000',
    BENCH_VERIFY_NEW: '5000',
    BENCH_PARTITION_ROWS: '2000',
  };
  for (const [k, v] of Object.entries(small)) process.env[k] ??= v;
}
const names = args.filter((a) => a !== '--quick');
for (const n of names) {
  if (!ALL[n]) {
    console.error(`unknown benchmark "${n}"; choose from: ${Object.keys(ALL).join(', ')} (memory is measured with throughput)`);
    process.exit(64);
  }
}
const chosen = names.length ? names : Object.keys(ALL);

let embedded;
let admin = process.env.BENCH_DATABASE_URL;
if (!admin) {
  // track_commit_timestamp: the reaction benchmark times from each change's commit
  embedded = await startEmbeddedPostgres(join(tmpdir(), 'aol-bench-embedded'), { settings: { track_commit_timestamp: 'on' } });
  admin = embedded.url('postgres');
}
const c = new pg.Client({ connectionString: admin });
await c.connect();
const server = (await c.query('SHOW server_version')).rows[0].server_version;
await c.end();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, PostgreSQL ${server}${embedded ? ' (embedded)' : ''}`;
console.log(`AOL benchmarks${quick ? ' (--quick: small samples, figures not meaningful)' : ''} — ${new Date().toISOString()}\nmachine: ${machine}\nrunning: ${chosen.join(', ')}`);

const results = { machine, quick, started_at: new Date().toISOString() };
const t0 = Date.now();
let failed = false;
for (const name of chosen) {
  const s = Date.now();
  try {
    await ALL[name](admin, results);
  } catch (err) {
    failed = true;
    console.error(`\n${name} failed: ${err.stack ?? err}`);
    results[name] = { error: String(err) };
  }
  console.log(`(${name}: ${((Date.now() - s) / 1000).toFixed(0)} s)`);
}
results.total_seconds = (Date.now() - t0) / 1000;
console.log(`\ntotal ${results.total_seconds.toFixed(0)} s`);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const file = join(ROOT, 'bench', 'results', `bench-${results.started_at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`raw samples: ${file}`);
await embedded?.stop();
process.exit(failed ? 1 : 0);
