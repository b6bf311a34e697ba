// The steps of a worker's reaction to a control change, timed in one process
// with the product's own pieces (docs/benchmarks.md §1): the notifier, the
// control-stream subscription (its re-read of the log on each NOTIFY) and the
// fenced acknowledgement, as the worker wires them, while a second connection
// makes runbook SQL changes one at a time.
//   node bench/reaction-steps.mjs <admin-url> [changes]
import pg from 'pg';
import { freshDb, sleep, stats, table } from './lib.mjs';
import { Db } from '../dist/db/db.js';
import { EventNotifier } from '../dist/events/event-notifier.js';
import { EventStore } from '../dist/events/event-store.js';
import { subscribeEvents } from '../dist/events/subscribe.js';

const [admin, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 300);
const { url, db: setup } = await freshDb(admin, 'bench_reaction_steps');
await setup.close();
const db = new Db(url, { max: 4, applicationName: 'aol-worker' });
const store = new EventStore(db);
const notifier = new EventNotifier(url, () => store.headSeq());
await notifier.start();
const owner = 'bench-steps';
const { rows: [lease] } = await db.query('SELECT * FROM aol_lease_acquire($1, 600)', [owner]);
let cur;
let acked;
notifier.wakeups$.subscribe((p) => {
  if (p && cur && p.stream === 'control' && p.type !== 'ControlAcknowledged') cur.notified ??= performance.now();
});
const sub = subscribeEvents(store, notifier, await store.headSeq(), {
  stream: 'control',
  wakeFor: (p) => p.type !== 'ControlAcknowledged',
}).subscribe((e) => {
  if (!cur || e.type === 'ControlAcknowledged' || cur.read) return;
  cur.read = performance.now();
  void db.query('SELECT aol_ack_control($1, $2, $3) AS ok', [owner, lease.epoch, e.stream_version]).then(() => {
    cur.acked = performance.now();
    acked();
  });
});
const writer = new pg.Client({ connectionString: url });
await writer.connect();
const marks = [];
for (let i = 0; i < n; i++) {
  cur = {};
  const done = new Promise((r) => (acked = r));
  cur.t0 = performance.now();
  await writer.query(`UPDATE aol_control_flags SET paused = ${i % 2 === 0} WHERE id = 1`);
  cur.committed = performance.now();
  await Promise.race([done, sleep(3000)]);
  marks.push(cur);
  await sleep(10);
}
const { rows } = await db.query(`SELECT (data->>'delay_ms')::float8 AS d FROM aol_events WHERE type = 'ControlAcknowledged'`);
const row = (step, v) => ({ step, ...stats(v.filter(Number.isFinite)) });
table(`reaction steps, ${n} runbook SQL changes (ms)`, [
  row("the writer's UPDATE (autocommit) round trip", marks.map((m) => m.committed - m.t0)),
  row("its COMMIT returned → the NOTIFY seen (negative: seen first)", marks.map((m) => m.notified - m.committed)),
  row('NOTIFY seen → the re-read of the control stream returned', marks.map((m) => m.read - m.notified)),
  row('re-read returned → the acknowledgement committed', marks.map((m) => m.acked - m.read)),
  row('ControlAcknowledged.delay_ms (append → acknowledgement, server)', rows.map((r) => r.d)),
]);
sub.unsubscribe();
await writer.end();
await notifier.stop();
await db.close();
