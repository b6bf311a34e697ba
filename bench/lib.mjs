// Shared helpers for the benchmarks: a database per benchmark on one server,
// spawning the API and workers from dist/, percentiles and tables.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Logger } from 'graphile-worker';
import { Db } from '../dist/db/db.js';
import { migrate } from '../dist/db/migrator.js';
import { freePort } from '../dist/db/embedded.js';
import { percentile } from '../dist-tools/tools/chaos/invariants.js';

export { percentile };

/** graphile-worker logs a line per job by default; keep its warnings and errors only. */
export const graphileLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
});

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const stats = (v) => ({ n: v.length, p50: percentile(v, 50), p99: percentile(v, 99), max: Math.max(...v) });

export function urlFor(admin, database) {
  const u = new URL(admin);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh, migrated database for one benchmark. */
export async function freshDb(admin, name) {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = urlFor(admin, name);
  const db = new Db(url, { max: 8, applicationName: 'aol-bench' });
  await migrate(db);
  return { url, db };
}

export function spawnNode(args, env) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d.length < 10000 ? d : ''));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited, id: `${hostname()}:${child.pid}` };
}

/** BENCH_PROF=DIR: the API and the worker write CPU profiles (node --cpu-prof) there when they exit. */
const prof = () => (process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []);

export function startWorker(url, env = {}) {
  return spawnNode([...prof(), join(ROOT, 'dist', 'cli.js'), 'worker'], { DATABASE_URL: url, ...env });
}

export async function startApi(url, env = {}) {
  const port = await freePort();
  const p = spawnNode([...prof(), join(ROOT, 'dist', 'main.js')], { DATABASE_URL: url, PORT: String(port), ...env });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) return { ...p, url: base };
    await sleep(50);
  }
  throw new Error(`API did not start: ${p.output()}`);
}

export async function waitFor(fn, timeoutMs = 30000, label = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let v;
    try {
      v = await fn();
    } catch (err) {
      if (/exited/.test(String(err))) throw err;
    }
    if (v) return v;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${label}`);
}

/** Peak and current resident set size of a process, from /proc (kB → MB). */
export function rss(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
    return { rss_mb: get('VmRSS'), peak_mb: get('VmHWM') };
  } catch {
    return { rss_mb: NaN, peak_mb: NaN };
  }
}

const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3)) : String(v));

/** A table: rows of objects with the same keys. */
export function table(title, rows) {
  const keys = Object.keys(rows[0] ?? {});
  const cells = [keys, ...rows.map((r) => keys.map((k) => fmt(r[k])))];
  const widths = keys.map((_, i) => Math.max(...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((v, i) => String(v).padEnd(widths[i])).join('  ');
  console.log(`\n${title}`);
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells.slice(1)) console.log(line(c));
}

/** Enqueue n actions through the event log, in batches (aol_append_batch): the same events POST /actions writes. */
export async function enqueueMany(db, n, type = 'NOOP', payload = {}) {
  const meta = { actor: 'bench', via: 'api' };
  for (let i = 0; i < n; i += 1000) {
    const k = Math.min(1000, n - i);
    const { rows } = await db.query(`SELECT nextval('aol_action_id_seq') AS id FROM generate_series(1, $1)`, [k]);
    const now = new Date().toISOString();
    const batch = rows.map((r) => ({
      stream: `action:${r.id}`,
      expected_version: 0,
      type: 'ActionEnqueued',
      data: { id: r.id, idempotency_key: `bench-${r.id}`, action_type: type, payload, not_before: now },
      metadata: meta,
    }));
    await db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [JSON.stringify(batch)]);
  }
}

/** A fresh database in real mode with `n` NOOP actions queued, and one client connected to it (the caller ends it). */
export async function queuedClient(admin, name, n) {
  const { url, db } = await freshDb(admin, name);
  await db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
  await enqueueMany(db, n);
  await db.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** The outcome items aol_record_and_claim takes for claimed no-op rows: each succeeded. */
export const succeeded = (rows) => JSON.stringify(rows.map((r) => ({ id: r.id, type: 'ActionSucceeded', data: { attempt: r.attempt, message: 'no-op' } })));

/**
 * The worker's database work without the worker: as one owner holding the
 * lease, `aol_record_and_claim` in a loop on one connection — each statement
 * records the previous batch as succeeded and claims the next `batch` — until
 * nothing is left. What a tick does per batch, minus the worker process.
 * `step(ms)` is told each statement's wall time. Returns the actions done.
 */
export async function recordAndClaimLoop(client, batch, step = () => undefined) {
  const owner = `bench-loop-${process.pid}`;
  const { rows: [lease] } = await client.query('SELECT * FROM aol_lease_acquire($1, 600)', [owner]);
  let pending = [];
  let done = 0;
  for (;;) {
    const limit = pending.length === 0 && done > 0 ? 0 : batch;
    const t = performance.now();
    const { rows } = await client.query('SELECT * FROM aol_record_and_claim($1, $2, $3, $4, false)', [owner, lease.epoch, succeeded(pending), limit]);
    step(performance.now() - t);
    done += pending.length;
    pending = rows.filter((r) => r.kind === 'claimed');
    if (pending.length === 0) return done;
  }
}
