// Profile of the reaction benchmark's tail, from the PostgreSQL log: per
// control change, the window from the change's commit (the API's or the CLI's
// COMMIT, the runbook UPDATE) to the worker's aol_ack_control(), and the
// statements other sessions (not the worker, not the bench) finished inside
// it, i.e. what shared the two cores with the worker's reaction.
// Use: ALTER SYSTEM SET log_min_duration_statement = 0 and
// log_line_prefix = '%m [%p] %a: ' (pg_reload_conf()), mark the log
// (SELECT 'MARK_A'), run `node bench/run.mjs reaction`, mark again (MARK_B), then
//   node bench/reaction-windows.mjs /var/log/postgresql/….log MARK_A MARK_B
// (docs/benchmarks.md, reaction).
import { readFileSync } from 'node:fs';
const [file, from, to] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n');
let on = false;
const st = [];
for (const l of lines) {
  if (l.includes(from)) on = true;
  if (to && l.includes(to)) on = false;
  if (!on) continue;
  const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[(\d+)\] ([^:]*): LOG: {2}duration: ([\d.]+) ms {2}(?:statement|execute [^:]*): (.*)$/.exec(l);
  if (!m) continue;
  st.push({ t: Date.parse(m[1].replace(' ', 'T') + 'Z'), pid: m[2], app: m[3] || '(none)', d: Number(m[4]), sql: m[5] });
}
// change commits: API COMMIT (REST), CLI COMMIT, the bench's UPDATE aol_control_flags
const isChange = (s) => (s.app === 'aol-api' && s.sql === 'COMMIT') || (s.app === 'aol-cli' && s.sql === 'COMMIT') || /^UPDATE aol_control_flags SET paused/.test(s.sql);
const doors = {};
for (let i = 0; i < st.length; i++) {
  const c = st[i];
  if (!isChange(c)) continue;
  const j = st.findIndex((s, k) => k > i && /aol_ack_control/.test(s.sql));
  if (j < 0 || st[j].t - c.t > 500) continue;
  const door = c.app === 'aol-api' ? 'REST' : c.app === 'aol-cli' ? 'CLI' : 'SQL';
  const inside = st.slice(i + 1, j).filter((s) => s.app !== 'aol-worker' && s.app !== 'aol-bench');
  const d = (doors[door] ??= { n: 0, others: 0, byApp: {} });
  d.n++;
  d.others += inside.length;
  for (const s of inside) {
    const key = `${s.app}: ${s.sql.slice(0, 60)}`;
    d.byApp[key] = (d.byApp[key] ?? 0) + 1;
  }
}
for (const [k, d] of Object.entries(doors)) {
  console.log(`${k}: ${d.n} changes; statements of other sessions finished between commit and ack: ${(d.others / d.n).toFixed(2)} per change`);
  for (const [q, n] of Object.entries(d.byApp).sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`   ${(n / d.n).toFixed(2)}  ${q}`);
}
