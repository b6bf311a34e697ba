// 8. presence — a standby's spawn → its row in aol_worker_presence() (what
// GET /workers serves), and SIGKILL of the standby → the row reads `dead`
// (TTL 2 s; the bound is TTL + 1 s). Polled every 5 ms straight from the
// database, so the figures exclude HTTP. Beside them, the floor: spawn →
// exit of `node dist/cli.js --help` (Node and the CLI's imports, no
// database), to tell start-up cost from presence cost on a loaded machine.
import { join } from 'node:path';
import { freshDb, ROOT, spawnNode, startWorker, stats, table, waitFor } from './lib.mjs';

export async function presence(admin, results) {
  const runs = Number(process.env.BENCH_PRESENCE_RUNS ?? 10);
  const ttl = 2;
  const { url, db } = await freshDb(admin, 'bench_presence');
  const env = { AOL_LEASE_TTL_SECONDS: String(ttl), AOL_TICK_INTERVAL_SECONDS: '0.5' };
  const status = async (id) =>
    (await db.query('SELECT status FROM aol_worker_presence() WHERE id = $1', [id])).rows[0]?.status;
  const poll = async (fn, label) => {
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (await fn()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out: ${label}`);
  };
  const holder = startWorker(url, env);
  const appear = [];
  const dead = [];
  const floor = [];
  try {
    await waitFor(async () => (await status(holder.id)) === 'active', 30000, 'holder active');
    for (let i = 0; i < runs; i++) {
      const t0 = Date.now();
      const b = startWorker(url, env);
      await poll(async () => (await status(b.id)) === 'standby', 'standby visible');
      appear.push(Date.now() - t0);
      // land anywhere in the refresh cycle
      await new Promise((r) => setTimeout(r, Math.random() * (ttl * 1000) / 3));
      const t1 = Date.now();
      b.child.kill('SIGKILL');
      await poll(async () => (await status(b.id)) === 'dead', 'standby dead');
      dead.push(Date.now() - t1);
      await b.exited;
      const t2 = Date.now();
      const v = spawnNode([join(ROOT, 'dist', 'cli.js'), '--help'], {});
      await v.exited;
      floor.push(Date.now() - t2);
    }
    const a = stats(appear);
    const d = stats(dead);
    const f = stats(floor);
    const rows = [
      { event: 'floor: spawn → exit of node dist/cli.js --help', runs: f.n, p50_ms: f.p50, max_ms: f.max, bound: '', result: '' },
      { event: 'standby spawn → visible (node start-up included)', runs: a.n, p50_ms: a.p50, max_ms: a.max, bound: '1000 ms', result: a.max <= 1000 ? 'met' : 'NOT met' },
      { event: `SIGKILL of the standby → dead (TTL ${ttl} s)`, runs: d.n, p50_ms: d.p50, max_ms: d.max, bound: `TTL + 1 s = ${ttl * 1000 + 1000} ms`, result: d.max <= ttl * 1000 + 1000 ? 'met' : 'NOT met' },
    ];
    table('presence: worker processes in GET /workers (ms)', rows);
    results.presence = { rows, appear, dead, floor };
  } finally {
    holder.child.kill('SIGKILL');
    await holder.exited;
    await db.close();
  }
}
