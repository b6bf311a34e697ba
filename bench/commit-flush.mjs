// How much of a committed change's visibility is the WAL flush of its commit
// (docs/benchmarks.md §1): single-row INSERTs in autocommit, into a logged and
// an unlogged table alternately, each timed from its transaction's commit
// timestamp (pg_xact_commit_timestamp, taken before the flush) to COMMIT
// returning at the client. An unlogged write's commit is not flushed
// (PostgreSQL skips it), so the difference is the flush. Needs
// track_commit_timestamp = on.
//   node bench/commit-flush.mjs <database-url> [n per kind]
import pg from 'pg';
import { stats, table } from './lib.mjs';

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 1000);
const c = new pg.Client({ connectionString: url });
await c.connect();
if ((await c.query(`SELECT current_setting('track_commit_timestamp') = 'on' AS on`)).rows[0].on !== true) {
  console.error('track_commit_timestamp is off on this server');
  process.exit(2);
}
const kinds = { logged: [], unlogged: [] };
try {
  await c.query('CREATE TABLE bench_flush_logged (id serial PRIMARY KEY)');
  await c.query('CREATE UNLOGGED TABLE bench_flush_unlogged (id serial PRIMARY KEY)');
  for (let i = 0; i < n; i++)
    for (const kind of Object.keys(kinds)) {
      const { rows } = await c.query(`INSERT INTO bench_flush_${kind} DEFAULT VALUES RETURNING xmin::text AS x`);
      const returned = performance.timeOrigin + performance.now();
      const { rows: [t] } = await c.query('SELECT extract(epoch FROM pg_xact_commit_timestamp($1::xid))::float8 * 1000 AS ms', [rows[0].x]);
      kinds[kind].push(returned - t.ms);
    }
} finally {
  await c.query('DROP TABLE IF EXISTS bench_flush_logged, bench_flush_unlogged');
  await c.end();
}
const s = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, stats(v)]));
table(`commit timestamp → COMMIT returned at the client (ms), ${n} single-row INSERTs each`, [
  { write: 'logged table (commit flushed: synchronous_commit = on)', n: s.logged.n, p50_ms: s.logged.p50, p99_ms: s.logged.p99, max_ms: s.logged.max },
  { write: 'unlogged table (commit not flushed)', n: s.unlogged.n, p50_ms: s.unlogged.p50, p99_ms: s.unlogged.p99, max_ms: s.unlogged.max },
]);
const signed = (v) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
console.log(`logged minus unlogged (the flush): p50 ${signed(s.logged.p50 - s.unlogged.p50)} ms, p99 ${signed(s.logged.p99 - s.unlogged.p99)} ms`);
