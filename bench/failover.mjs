// 7. failover — SIGKILL of the lease holder → the standby is active
// (TTL 3 s); clean release (SIGTERM) → the standby is active.
import { freshDb, sleep, startWorker, stats, table, waitFor } from './lib.mjs';

export async function failover(admin, results) {
  const runs = Number(process.env.BENCH_FAILOVER_RUNS ?? 10);
  const { url, db } = await freshDb(admin, 'bench_failover');
  const env = { AOL_LEASE_TTL_SECONDS: '3', AOL_TICK_INTERVAL_SECONDS: '0.5' };
  const holder = async () => (await db.query('SELECT owner, epoch FROM aol_lease')).rows[0];
  const measure = async (signal) => {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      await db.query('DELETE FROM aol_lease');
      const a = startWorker(url, env);
      await waitFor(async () => (await holder())?.owner === a.id, 30000, 'a holds');
      const b = startWorker(url, env);
      await waitFor(async () => b.output().includes('started'), 30000, 'b up');
      await sleep(Math.random() * 1000); // land anywhere in the renewal cycle
      const before = (await holder()).epoch;
      const t0 = Date.now();
      a.child.kill(signal);
      const acquired = await waitFor(async () => {
        const { rows } = await db.query(`SELECT occurred_at FROM aol_events WHERE type = 'LeaseAcquired' AND (data->>'epoch')::int = $1`, [before + 1]);
        return rows[0];
      }, 30000, 'takeover');
      samples.push(new Date(acquired.occurred_at).getTime() - t0);
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
    }
    return stats(samples);
  };
  try {
    const kill = await measure('SIGKILL');
    const term = await measure('SIGTERM');
    const rows = [
      { event: 'SIGKILL of the holder (TTL 3 s)', runs: kill.n, p50_ms: kill.p50, max_ms: kill.max, bound: 'TTL + 1 s = 4000 ms', result: kill.max <= 4000 ? 'met' : 'NOT met' },
      { event: 'SIGTERM (clean release) of the holder', runs: term.n, p50_ms: term.p50, max_ms: term.max, bound: 'immediate (NOTIFY)', result: '' },
    ];
    table('failover: holder gone → standby holds the lease (ms)', rows);
    results.failover = { rows };
  } finally {
    await db.close();
  }
}
