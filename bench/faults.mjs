// 8. restarts — PostgreSQL restarted N times (default 10) under 20 writers,
//    4 readers and 20 SSE clients: API and worker alive, every acknowledged
//    write in the log, seq gap-free, verify OK, every SSE client complete.
// 9. stalled — 50 SSE clients that never read, replaying a ~30 MB log: API
//    RSS and /health latency meanwhile.
// 10. overload — 1,000 concurrent mixed requests on a log of a few thousand
//    events: responses by status code (no 500).
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Db } from '../dist/db/db.js';
import { migrate } from '../dist/db/migrator.js';
import { startEmbeddedPostgres } from '../dist/db/embedded.js';
import { EventStore } from '../dist/events/event-store.js';
import { followersCaughtUp, restartDrill } from '../dist-tools/tools/chaos/restart-drill.js';
import { enqueueMany, freshDb, rss, sleep, startApi, startWorker, stats, table } from './lib.mjs';

const TOKENS = 'bench-viewer:viewer:bench-viewer-token-0123456789,bench-ops:operator:bench-operator-token-0123456789';
const VIEWER = { Authorization: 'Bearer bench-viewer-token-0123456789' };
const OPERATOR = { Authorization: 'Bearer bench-operator-token-0123456789' };
const verdict = (ok) => (ok ? 'met' : 'NOT met');

export async function restarts(_admin, results) {
  const n = Number(process.env.BENCH_RESTARTS ?? 10);
  const dir = join(tmpdir(), 'aol-bench-restarts');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  // A server of its own (it is restarted), with durable commits: no fsync shortcuts.
  let pg = await startEmbeddedPostgres(dir);
  const url = pg.url('postgres');
  const db = new Db(url, { max: 2, applicationName: 'aol-bench' });
  await migrate(db);
  const api = await startApi(url, { AOL_API_TOKENS: TOKENS, AOL_DB_POOL_TIMEOUT_SECONDS: '2' });
  const worker = startWorker(url, { AOL_TICK_INTERVAL_SECONDS: '0.3', AOL_LEASE_TTL_SECONDS: '3', AOL_MAX_ACTIONS_PER_TICK: '100', AOL_CLAIM_BATCH_SIZE: '20' });
  const alive = () => api.child.exitCode === null && worker.child.exitCode === null;
  const recovery = [];
  const downtime = [];
  try {
    const report = await restartDrill({
      apiUrl: api.url,
      token: 'bench-operator-token-0123456789',
      writers: 20,
      readers: 4,
      sseClients: 20,
      restarts: n,
      alive,
      log: (m) => {
        const ms = /again (\d+) ms/.exec(m);
        if (ms) recovery.push(Number(ms[1]));
      },
      restartDatabase: async () => {
        const t0 = Date.now();
        await pg.stop();
        pg = await startEmbeddedPostgres(dir, { port: pg.port });
        downtime.push(Date.now() - t0);
      },
    });
    const head = (await db.query('SELECT count(*)::int AS n, coalesce(max(seq), 0) AS max FROM aol_events')).rows[0];
    const sse = await followersCaughtUp(report.followers, head.max, 120_000);
    for (const f of report.followers) f.stop();
    const logged = new Set((await db.query(`SELECT data->>'idempotency_key' AS k FROM aol_events WHERE type = 'ActionEnqueued'`)).rows.map((r) => r.k));
    const missing = report.acked.filter((k) => !logged.has(k)).length;
    const v = await new EventStore(db).verify();
    const reconnects = report.followers.reduce((s, f) => s + f.reconnects, 0);
    const statuses = Object.entries(report.statuses).map(([s, c]) => `${s}×${c}`).join(' ');
    const rows = [
      { check: `API and worker alive through ${n} restarts`, result: !report.died && alive() ? 'yes' : 'NO', target: 'alive', verdict: verdict(!report.died && alive()) },
      { check: 'writes acknowledged (201/200)', result: report.acked.length, target: '', verdict: '' },
      { check: 'acknowledged writes missing from the log', result: missing, target: 0, verdict: verdict(missing === 0) },
      { check: 'seq gap-free (count = max seq)', result: `${head.n} / ${head.max}`, target: 'equal', verdict: verdict(head.n === head.max) },
      { check: 'events verify (hash chain)', result: v.ok ? `ok, ${v.checked}` : `BAD at ${v.first_bad_seq}`, target: 'ok', verdict: verdict(v.ok) },
      { check: '20 SSE clients: every event once, in order', result: sse ?? `complete to seq ${head.max} (${reconnects} reconnects)`, target: 'complete', verdict: verdict(sse === null) },
      { check: 'responses by status', result: statuses, target: 'no 500', verdict: verdict(!report.statuses['500']) },
      { check: '503s without Retry-After / requests unanswered', result: `${report.noRetryAfter} / ${report.noAnswer}`, target: '0 / 0', verdict: verdict(report.noRetryAfter === 0 && report.noAnswer === 0) },
    ];
    table(`restarts: PostgreSQL restarted ${n} times under 20 writers, 4 readers, 20 SSE clients (issue 13: before, the API died at the first restart in 3 of 3 trials)`, rows);
    const rec = stats(recovery);
    const down = stats(downtime);
    table('restarts: timings (ms)', [
      { measure: 'database stop → started again', n: down.n, p50: down.p50, max: down.max },
      { measure: 'database stop → writes acknowledged again', n: rec.n, p50: rec.p50, max: rec.max },
    ]);
    results.restarts = { rows, recovery: rec, downtime: down, statuses: report.statuses };
  } finally {
    api.child.kill('SIGKILL');
    worker.child.kill('SIGKILL');
    await Promise.all([api.exited, worker.exited]);
    await db.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
  }
}

/** Append about `mb` MB of NOOP ActionEnqueued events (20 KB each), not yet due. */
async function bulkLog(db, mb) {
  const total = Math.ceil((mb * 1024) / 20);
  const note = 'x'.repeat(20 * 1024);
  for (let i = 0; i < total; i += 100) {
    const k = Math.min(100, total - i);
    const { rows } = await db.query(`SELECT nextval('aol_action_id_seq') AS id FROM generate_series(1, $1)`, [k]);
    const later = new Date(Date.now() + 86_400_000).toISOString();
    const batch = rows.map((r) => ({ stream: `action:${r.id}`, expected_version: 0, type: 'ActionEnqueued', data: { id: r.id, idempotency_key: `bulk-${r.id}`, action_type: 'NOOP', payload: { note }, not_before: later }, metadata: { actor: 'bench', via: 'api' } }));
    await db.query('SELECT count(*) FROM aol_append_batch($1::jsonb)', [JSON.stringify(batch)]);
  }
}

export async function stalled(admin, results) {
  const mb = Number(process.env.BENCH_STALLED_MB ?? 30);
  const secs = Number(process.env.BENCH_STALLED_SECONDS ?? 20);
  const clients = 50;
  const { url, db } = await freshDb(admin, 'bench_stalled');
  await bulkLog(db, mb);
  const size = (await db.query(`SELECT pg_size_pretty(sum(octet_length(data::text) + octet_length(metadata::text))) AS s FROM aol_events`)).rows[0].s;
  // The clients stay connected for the whole measurement (stall limit above it), the harder case.
  const api = await startApi(url, { AOL_API_TOKENS: TOKENS, AOL_SSE_MAX_CONNECTIONS_PER_TOKEN: '100', AOL_SSE_STALL_TIMEOUT_SECONDS: String(secs * 3) });
  const sockets = [];
  try {
    await sleep(1000);
    const before = rss(api.child.pid).rss_mb;
    const port = Number(new URL(api.url).port);
    for (let i = 0; i < clients; i++) {
      const s = connect(port, '127.0.0.1', () => {
        s.write(`GET /events/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${VIEWER.Authorization}\r\n\r\n`);
        s.pause(); // never reads
      });
      s.on('error', () => undefined);
      sockets.push(s);
    }
    const lat = [];
    let peak = 0;
    const until = Date.now() + secs * 1000;
    while (Date.now() < until) {
      const t0 = performance.now();
      const r = await fetch(`${api.url}/health`);
      await r.arrayBuffer();
      lat.push(r.status === 200 ? performance.now() - t0 : Infinity);
      peak = Math.max(peak, rss(api.child.pid).rss_mb);
      await sleep(20);
    }
    const m = await fetch(`${api.url}/metrics`, { headers: VIEWER }).then((r) => r.text());
    const open = Number(/^aol_sse_connections (\d+)/m.exec(m)?.[1] ?? NaN);
    const h = stats(lat);
    const rows = [
      { measure: `log size (JSON of data + metadata)`, value: size, target: '~30 MB', verdict: '' },
      { measure: 'stalled SSE clients connected (aol_sse_connections)', value: open, target: clients, verdict: verdict(open === clients) },
      { measure: 'API RSS before (MB)', value: before, target: '', verdict: '' },
      { measure: `API RSS peak during ${secs} s (MB)`, value: peak, target: '< 300', verdict: verdict(peak < 300) },
      { measure: `/health p50 / p99 / max (ms), n=${h.n}`, value: `${h.p50.toFixed(1)} / ${h.p99.toFixed(1)} / ${h.max.toFixed(1)}`, target: 'p99 < 100', verdict: verdict(h.p99 < 100) },
    ];
    table(`stalled: ${clients} SSE clients that never read, replaying from seq 0 (issue 13: before, RSS 168 MB → 2.6 GB in 14 s, /health 3–4 s and "database unreachable")`, rows);
    results.stalled = { rows, health: h, peak_rss_mb: peak };
  } finally {
    for (const s of sockets) s.destroy();
    api.child.kill('SIGTERM');
    await api.exited;
    await db.close();
  }
}

export async function overload(admin, results) {
  const events = Number(process.env.BENCH_OVERLOAD_EVENTS ?? 3000);
  const total = Number(process.env.BENCH_OVERLOAD_REQUESTS ?? 1000);
  const { url, db } = await freshDb(admin, 'bench_overload');
  await enqueueMany(db, events);
  const head = (await db.query('SELECT max(seq) AS s FROM aol_events')).rows[0].s;
  const api = await startApi(url, { AOL_API_TOKENS: TOKENS });
  try {
    const kinds = [
      { kind: 'GET /actions?limit=50', go: () => fetch(`${api.url}/actions?limit=50`, { headers: VIEWER }) },
      { kind: 'GET /health/aol', go: () => fetch(`${api.url}/health/aol`) },
      { kind: 'POST /actions (new key)', go: (i) => fetch(`${api.url}/actions`, { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/json' }, body: JSON.stringify({ action_type: 'NOOP', payload: {}, idempotency_key: `overload-${i}` }) }) },
      { kind: `GET /health/aol?at=${head} (viewer)`, go: () => fetch(`${api.url}/health/aol?at=${head}`, { headers: VIEWER }) },
    ];
    const tally = new Map(kinds.map((k) => [k.kind, {}]));
    let noRetryAfter = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const k = kinds[i % 4];
        let status = 'no answer';
        try {
          const r = await k.go(i);
          await r.arrayBuffer();
          status = String(r.status);
          if ((r.status === 503 || r.status === 429) && !r.headers.get('retry-after')) noRetryAfter++;
        } catch {
          /* counted as "no answer" */
        }
        const t = tally.get(k.kind);
        t[status] = (t[status] ?? 0) + 1;
      }),
    );
    const wall = performance.now() - t0;
    const codes = [...new Set([...tally.values()].flatMap((t) => Object.keys(t)))].sort();
    // Column names that aren't integer-like, so they keep their order (request first).
    const col = (c) => (/^\d+$/.test(c) ? `HTTP ${c}` : c);
    const rows = [...tally.entries()].map(([kind, t]) => Object.fromEntries([['request', kind], ...codes.map((c) => [col(c), t[c] ?? 0])]));
    const sum = Object.fromEntries([['request', 'all'], ...codes.map((c) => [col(c), rows.reduce((s, r) => s + r[col(c)], 0)])]);
    rows.push(sum);
    table(`overload: ${total} concurrent requests, a quarter each, log of ${head} events, all at once (${wall.toFixed(0)} ms in all; issue 13: before, 665× 500 and 158× 503)`, rows);
    const fiveHundreds = sum['HTTP 500'] ?? 0;
    table('overload: verdict', [
      { check: 'responses 500', value: fiveHundreds, target: 0, verdict: verdict(fiveHundreds === 0) },
      { check: '503/429 without Retry-After', value: noRetryAfter, target: 0, verdict: verdict(noRetryAfter === 0) },
      { check: 'requests without an answer', value: sum['no answer'] ?? 0, target: 0, verdict: verdict(!sum['no answer']) },
    ]);
    const h = await fetch(`${api.url}/health`);
    if (h.status !== 200) throw new Error(`/health ${h.status} after the overload`);
    results.overload = { rows, wall_ms: wall, no_retry_after: noRetryAfter };
  } finally {
    api.child.kill('SIGTERM');
    await api.exited;
    await db.close();
  }
}


