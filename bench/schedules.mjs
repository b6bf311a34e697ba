// 12. schedules — one scheduler round (src/schedules/scheduler.ts) with
//     nothing due (the cost every API replica pays every second), and with
//     BENCH_SCHEDULES every-minute schedules due at once, fired by one caller
//     and by 3 callers racing (as 3 API replicas would).
import { SchedulesService } from '../dist/schedules/schedules.service.js';
import { fireDueSchedules } from '../dist/schedules/scheduler.js';
import { freshDb, stats, table } from './lib.mjs';

const META = { actor: 'scheduler bench', via: 'api' };

export async function schedules(admin, results) {
  const n = Number(process.env.BENCH_SCHEDULES ?? 500);
  const rounds = Number(process.env.BENCH_SCHEDULE_ROUNDS ?? 5);
  const { db } = await freshDb(admin, 'bench_schedules');
  try {
    const svc = new SchedulesService(db);
    for (let i = 0; i < n; i++)
      await svc.create({ cron: '* * * * *', action_type: 'NOOP', payload: {} }, { name: 'bench', via: 'api' });
    const idle = [];
    let idleFired = 0; // a real minute may turn meanwhile: then an idle round fires
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      idleFired += (await fireDueSchedules(db, META)).fired;
      idle.push(performance.now() - t0);
    }
    const nextMinute = () =>
      db.query(`UPDATE aol_clock SET offset_seconds = offset_seconds + extract(epoch FROM
        date_trunc('minute', aol_now()) + interval '61 seconds' - aol_now())::float8`);
    const fire = async (callers) => {
      const lat = [];
      let fired = 0;
      for (let r = 0; r < rounds; r++) {
        await nextMinute();
        const t0 = performance.now();
        // a round handles 50 schedules per transaction; loop until all due ones fired
        for (;;) {
          const rs = await Promise.all(Array.from({ length: callers }, () => fireDueSchedules(db, META)));
          const k = rs.reduce((s, x) => s + x.fired, 0);
          fired += k;
          if (k === 0) break;
        }
        lat.push(performance.now() - t0);
        if (fired !== (r + 1) * n) throw new Error(`minute ${r + 1}: ${fired} firings, expected ${(r + 1) * n}`);
      }
      return { lat, fired };
    };
    const one = await fire(1);
    const three = await fire(3);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS k FROM aol_actions`,
    );
    const row = (label, s, extra = {}) => ({ case: label, n: s.n, p50_ms: s.p50, p99_ms: s.p99, max_ms: s.max, ...extra });
    const rowsOut = [
      row('round, nothing due', stats(idle), { per_firing_ms: '-' }),
      row(`${n} due, 1 caller`, stats(one.lat), { per_firing_ms: stats(one.lat).p50 / n }),
      row(`${n} due, 3 callers racing`, stats(three.lat), { per_firing_ms: stats(three.lat).p50 / n }),
    ];
    table(`schedules — a scheduler round (${n} every-minute schedules, ${rounds} database minutes each)`, rowsOut);
    const expected = idleFired + one.fired + three.fired;
    console.log(`actions enqueued ${rows[0].n}, distinct keys ${rows[0].k}, firings reported ${expected}`);
    if (rows[0].n !== expected || rows[0].k !== rows[0].n)
      throw new Error(`expected exactly ${expected} actions, got ${rows[0].n} (${rows[0].k} distinct)`);
    results.schedules = { n, rounds, rows: rowsOut };
  } finally {
    await db.close();
  }
}
