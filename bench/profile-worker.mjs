// The worker's CPU profile during the throughput run (docs/benchmarks.md
// section 3): node --cpu-prof on one worker doing N no-op actions, then the
// self time per function and per category (idle, GC, pg, logging, own code).
// node bench/profile-worker.mjs <admin-url> [n] [batch] [concurrency]
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueueMany, freshDb, ROOT, spawnNode, waitFor } from './lib.mjs';

const [admin, nArg, bArg, cArg] = process.argv.slice(2);
const N = Number(nArg ?? 3000);
const { url, db } = await freshDb(admin, 'bench_prof_worker');
await db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
await enqueueMany(db, N);
const dir = mkdtempSync(join(tmpdir(), 'aol-cpuprof-'));
const w = spawnNode(['--cpu-prof', `--cpu-prof-dir=${dir}`, join(ROOT, 'dist', 'cli.js'), 'worker'], {
  DATABASE_URL: url, AOL_PROOF_MODE: 'false', AOL_TICK_INTERVAL_SECONDS: '0.01', AOL_MAX_TICK_SECONDS: '60',
  AOL_MAX_ACTIONS_PER_TICK: '100000', AOL_CLAIM_BATCH_SIZE: bArg ?? '1', AOL_WORKER_CONCURRENCY: cArg ?? '1',
});
const t0 = performance.now();
await waitFor(async () => (await db.query(`SELECT n FROM aol_queue_counts WHERE status = 'SUCCESS'`)).rows[0].n >= N, 600000, 'done');
const secs = (performance.now() - t0) / 1000;
w.child.kill('SIGTERM');
await w.exited;
await db.close();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const cat = (n) => {
  const f = n.callFrame;
  if (f.functionName === '(idle)') return 'idle';
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)') return 'program';
  for (let x = n; x; x = byId.get(parent.get(x.id))) {
    const u = x.callFrame.url;
    if (/pino|sonic-boom|thread-stream/.test(u)) return 'logging (pino)';
  }
  const u = f.url;
  if (/node_modules\/pg/.test(u)) return 'pg driver';
  if (/\/dist\//.test(u)) return 'AOL code';
  if (/node_modules/.test(u)) return 'other deps';
  return 'node internals';
};
const cats = new Map();
const fns = new Map();
let total = 0;
for (const [id, us] of dt) {
  const n = byId.get(id);
  total += us;
  const c = cat(n);
  cats.set(c, (cats.get(c) ?? 0) + us);
  const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*dist\//, 'dist/')}:${n.callFrame.lineNumber}`;
  fns.set(k, (fns.get(k) ?? 0) + us);
}
console.log(`${N} actions in ${secs.toFixed(2)} s (${(N / secs).toFixed(0)}/s); profile ${(total / 1e6).toFixed(2)} s`);
console.table([...cats].sort((a, b) => b[1] - a[1]).map(([c, us]) => ({ category: c, ms: Math.round(us / 1000), '%': (100 * us / total).toFixed(1), 'µs/action': Math.round(us / N) })));
console.table([...fns].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([f, us]) => ({ fn: f.slice(0, 110), ms: Math.round(us / 1000), 'µs/action': Math.round(us / N) })));
