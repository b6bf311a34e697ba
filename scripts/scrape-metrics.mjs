#!/usr/bin/env node
// A live scrape of GET /metrics, for `promtool check metrics` in .ci/run:
//   node scripts/scrape-metrics.mjs postgresql://postgres@127.0.0.1:5432/postgres > scrape.txt
//   promtool check metrics < scrape.txt
// Creates a scratch database on that server, migrates it, starts the built API
// (dist/main.js) and a worker, waits for a scrape with the worker present and
// a tick recorded, prints it, then stops both and drops the database.
// Needs `npm run build` first.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const admin = process.argv[2] ?? process.env.DATABASE_URL;
if (!admin) {
  console.error('usage: node scripts/scrape-metrics.mjs <postgresql://… of a server to use>');
  process.exit(64);
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const name = `aol_ci_metrics_${randomBytes(4).toString('hex')}`;
const adminClient = new pg.Client({ connectionString: admin });
await adminClient.connect();
await adminClient.query(`CREATE DATABASE ${name}`);
const u = new URL(admin);
u.pathname = `/${name}`;
const url = u.toString();
const children = [];
const output = [];
const run = (args, env = {}) => {
  const c = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  c.stdout.on('data', (d) => output.push(String(d)));
  c.stderr.on('data', (d) => output.push(String(d)));
  children.push(c);
  return c;
};
const exited = (c) =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', r));

let code = 1;
try {
  const m = run(['dist/cli.js', 'migrate']);
  if ((await exited(m)) !== 0) throw new Error('aol migrate failed');
  const port = await freePort();
  run(['dist/main.js'], { PORT: String(port) });
  run(['dist/cli.js', 'worker'], { AOL_TICK_INTERVAL_SECONDS: '0.3', AOL_LEASE_TTL_SECONDS: '2' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`)
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '');
    if (
      /aol_workers\{state="active"\} 1/.test(text) &&
      /aol_tick_duration_seconds_count/.test(text)
    ) {
      process.stdout.write(text);
      code = 0;
      break;
    }
    if (Date.now() > deadline) throw new Error('no full scrape of /metrics within 60 s');
    await new Promise((r) => setTimeout(r, 300));
  }
} catch (err) {
  console.error(`scrape-metrics: ${err.message}\n${output.join('')}`);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map(exited));
  await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await adminClient.end();
}
process.exit(code);
