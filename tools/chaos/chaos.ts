#!/usr/bin/env node
/**
 * `npm run chaos -- [--minutes M] [--workers N] [--seed S]`
 *
 * Runs the whole system — its own embedded PostgreSQL (or DATABASE_URL), an
 * API, N workers with short intervals, a local webhook receiver — under a
 * stream of enqueued actions while a seeded schedule SIGKILLs and SIGSTOPs
 * workers, flips flags through REST, CLI and runbook SQL, force-releases the
 * lease, restarts PostgreSQL and kills LISTEN connections. Then it drains the
 * queue and checks the invariants (invariants.ts), prints a summary, and
 * exits non-zero if any fails, keeping the logs and data of a failing run.
 * Everything is on loopback, bounded in time and count, and stops by itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Db } from '../../src/db/db.js';
import { migrate } from '../../src/db/migrator.js';
import { EmbeddedDb, freePort, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { EventStore } from '../../src/events/event-store.js';
import { ChaosReceiver } from './receiver.js';
import { Rng } from './rng.js';
import {
  checkAcks,
  checkControl,
  checkDeliveries,
  checkLease,
  checkLog,
  checkNoLoss,
  CheckResult,
  Ev,
  FinalAction,
} from './invariants.js';
import { Fleet } from './fleet.js';
import { checkRunbookRole, createOperatorRole } from './operator-role.js';

const DOORS = ['rest', 'cli', 'sql', 'role'] as const;

type Opts = { minutes: number; workers: number; seed: number };

function parse(): Opts {
  const o = new Command('chaos')
    .option('--minutes <m>', 'how long to run the chaos', '2')
    .option('--workers <n>', 'workers at once', '3')
    .option('--seed <s>', 'seed of the schedule (default: random, printed)')
    .parse(process.argv)
    .opts<{ minutes: string; workers: string; seed?: string }>();
  const minutes = Number(o.minutes);
  const workers = Number(o.workers);
  const seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(o.seed);
  if (
    !(minutes > 0 && minutes <= 120) ||
    !Number.isInteger(workers) ||
    workers < 1 ||
    workers > 10 ||
    !Number.isInteger(seed)
  ) {
    console.error('chaos: --minutes 0..120, --workers 1..10, --seed an integer');
    process.exit(64);
  }
  return { minutes, workers, seed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) =>
  console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${m}`);
const started = Date.now();

async function main(): Promise<number> {
  const opts = parse();
  const rng = new Rng(opts.seed);
  const dir = mkdtempSync(join(tmpdir(), `aol-chaos-${opts.seed}-`));
  chmodSync(dir, 0o755);
  console.log(
    `chaos: seed ${opts.seed}, ${opts.minutes} min, ${opts.workers} workers; logs in ${dir}`,
  );
  let pg: EmbeddedDb | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    pg = await startEmbeddedPostgres(join(dir, 'db'), { fast: true });
    url = pg.url('postgres');
  }
  const db = new Db(url, { max: 4, applicationName: 'aol-chaos' });
  db.pool.on('error', () => undefined);
  await migrate(db);
  const receiver = new ChaosReceiver();
  await receiver.start(await freePort());
  const fleet = new Fleet(url, dir, opts.workers, log);
  const operator = await createOperatorRole(db, url);
  fleet.operatorDb = operator.db;
  await fleet.startApi();
  await db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
  fleet.fillWorkers();

  const enqueued: string[] = [];
  const holderLost: number[] = [];
  const until = Date.now() + opts.minutes * 60_000;
  let running = true;
  let lastPgRestart = Date.now();
  let ops = 0;

  const enqueueLoop = (async () => {
    for (let n = 0; running && n < 20_000; n++) {
      const kind = rng.weighted({ ok: 70, flaky1: 10, flaky2: 8, perm: 7, slow: 5 });
      const key = `chaos-${opts.seed}-${n}`;
      const path = kind === 'slow' ? 'ok' : kind;
      const payload = { url: `${receiver.url}/${path}/${n}`, body: { n } };
      try {
        if (rng.next() < 0.5)
          await fleet.rest('POST', '/actions', {
            action_type: 'HTTP_WEBHOOK',
            payload,
            idempotency_key: key,
          });
        else
          await fleet.cli([
            'actions',
            'enqueue',
            '--type',
            'HTTP_WEBHOOK',
            '--payload',
            JSON.stringify(payload),
            '--key',
            key,
          ]);
        enqueued.push(key);
      } catch {
        // the database may be restarting: this key was not enqueued (or was: a retry with the same key is safe)
        await sleep(200);
        continue;
      }
      await sleep(rng.between(80, 300));
    }
  })();

  const chaosLoop = (async () => {
    while (running && Date.now() < until && ops < opts.minutes * 200) {
      await sleep(rng.between(400, 1800));
      if (!running || Date.now() >= until) break;
      ops++;
      const op = rng.weighted({
        kill9: 18,
        stop: 10,
        control: 40,
        release: 10,
        listen: 10,
        pgRestart: pg ? 6 : 0,
      });
      try {
        switch (op) {
          case 'kill9': {
            const w = fleet.randomWorker(rng);
            if (!w) break;
            const wasHolder = await fleet.isHolder(db, w);
            fleet.kill(w, 'SIGKILL');
            if (wasHolder) holderLost.push(Date.now());
            log(`SIGKILL ${w.id}${wasHolder ? ' (lease holder)' : ''}`);
            break;
          }
          case 'stop': {
            const w = fleet.randomWorker(rng);
            if (!w) break;
            const wasHolder = await fleet.isHolder(db, w);
            const ms = rng.between(2500, 3500);
            fleet.stall(w, ms);
            if (wasHolder) holderLost.push(Date.now());
            log(`SIGSTOP ${w.id} for ${ms.toFixed(0)} ms${wasHolder ? ' (lease holder)' : ''}`);
            break;
          }
          case 'control': {
            const change = rng.weighted({
              pause: 20,
              resume: 25,
              kill: 6,
              revive: 6,
              'proof-on': 15,
              'proof-off': 20,
            });
            const door = rng.pick(DOORS);
            await fleet.control(db, change, door);
            log(`${change} via ${door}`);
            if (change === 'kill') {
              await sleep(rng.between(300, 1200));
              await fleet.control(db, 'revive', rng.pick(DOORS));
              log('revive (after kill)');
            }
            break;
          }
          case 'release': {
            const door = rng.pick(DOORS);
            const lost = await fleet.forceRelease(db, door);
            if (lost) holderLost.push(Date.now());
            log(`force release via ${door}${lost ? '' : ' (nobody held it)'}`);
            break;
          }
          case 'listen': {
            const { rowCount } = await db.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
            );
            log(`terminated ${rowCount} LISTEN connection(s)`);
            break;
          }
          case 'pgRestart': {
            if (!pg || Date.now() - lastPgRestart < 25_000) break;
            lastPgRestart = Date.now();
            const port = pg.port;
            await pg.stop();
            log('PostgreSQL stopped');
            await sleep(rng.between(500, 2000));
            pg = await startEmbeddedPostgres(join(dir, 'db'), { fast: true, port });
            log('PostgreSQL started again');
            break;
          }
        }
      } catch (err) {
        log(`(${op} failed: ${(err as Error).message.split('\n')[0]})`);
      }
    }
  })();

  const supervisor = setInterval(() => void fleet.superviseWorkers(db), 500);
  await chaosLoop;
  running = false;
  await enqueueLoop;
  log(`chaos over after ${ops} operations; draining`);

  // Drain: every flag back to running (real mode), every worker up, then wait for the queue to settle.
  await fleet.control(db, 'revive', 'sql').catch(() => undefined);
  await fleet.control(db, 'resume', 'sql').catch(() => undefined);
  const drainDeadline = Date.now() + 90_000;
  for (;;) {
    const { rows } = await db
      .query<{ n: number }>(
        `SELECT count(*)::int AS n FROM aol_actions WHERE status IN ('PENDING', 'RETRY', 'RUNNING')`,
      )
      .catch(() => ({ rows: [{ n: -1 }] }));
    if (rows[0].n === 0 || Date.now() > drainDeadline) break;
    await sleep(500);
  }
  // the last control change must be acknowledged before we judge
  const ackDeadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await db.query<{ ok: boolean }>(
      'SELECT a.control_version >= f.version AS ok FROM aol_control_flags f, aol_control_ack a',
    );
    if (rows[0].ok || Date.now() > ackDeadline) break;
    await sleep(200);
  }
  clearInterval(supervisor);
  await fleet.stopAll();
  await sleep(300);

  const events = (
    await db.query<Omit<Ev, 'occurred_at'> & { occurred_at: Date }>(
      'SELECT * FROM aol_events ORDER BY seq',
    )
  ).rows.map((e): Ev => ({ ...e, occurred_at: e.occurred_at.toISOString() }));
  const actions = (
    await db.query<Omit<FinalAction, 'not_before_utc'> & { not_before_utc: Date }>(
      'SELECT id, idempotency_key, status, not_before_utc, last_error FROM aol_actions',
    )
  ).rows.map((a): FinalAction => ({ ...a, not_before_utc: a.not_before_utc.toISOString() }));
  const verify = await new EventStore(db).verify();
  const rebuild = await rebuildEquals(db);
  const acks = checkAcks(events, holderLost);
  const results: CheckResult[] = [
    checkDeliveries(events, receiver.deliveries, actions),
    checkNoLoss(enqueued, actions, Date.now()),
    checkLease(events),
    checkControl(events, receiver.deliveries, actions),
    checkLog(verify, rebuild),
    acks,
    checkRunbookRole(events, operator.name),
  ];
  printSummary(results, opts, events.length, ops);
  const failed = results.some((r) => !r.ok);
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify(
      { seed: opts.seed, opts, results, ack_delays_ms: acks.delays, failovers_ms: acks.failovers },
      null,
      2,
    ),
  );
  if (failed) {
    mkdirSync(join(dir, 'dump'), { recursive: true });
    writeFileSync(
      join(dir, 'dump', 'events.ndjson'),
      events.map((e) => JSON.stringify(e)).join('\n') + '\n',
    );
    writeFileSync(join(dir, 'dump', 'actions.json'), JSON.stringify(actions, null, 2));
    writeFileSync(
      join(dir, 'dump', 'deliveries.json'),
      JSON.stringify(receiver.deliveries, null, 2),
    );
  }
  await receiver.stop();
  await operator.drop();
  await db.close();
  await pg?.stop();
  if (failed) {
    console.log(
      `\nchaos FAILED — reproduce with: npm run chaos -- --minutes ${opts.minutes} --workers ${opts.workers} --seed ${opts.seed}`,
    );
    console.log(`logs, the database directory and a dump of the log are kept in ${dir}`);
    return 1;
  }
  rmSync(dir, { recursive: true, force: true });
  return 0;
}

/** Rebuild every read model inside a transaction, compare with the live rows, roll back. */
async function rebuildEquals(db: Db): Promise<{ equal: boolean; diff?: string }> {
  const tables = [
    'aol_control_flags',
    'aol_control_ack',
    'aol_proof_requests',
    'aol_deployment',
    'aol_clock',
    'aol_lease',
    'aol_lease_epoch',
    'aol_tick_ledger',
    'aol_actions',
    'aol_execution_logs',
    'aol_queue_counts',
    'aol_schedules',
  ];
  const snap = async (c: { query: Db['query'] }) => {
    const out: Record<string, string> = {};
    for (const t of tables)
      out[t] = JSON.stringify(
        (await c.query(`SELECT * FROM ${t} ORDER BY 1, 2`)).rows.map((r: Record<string, unknown>) =>
          // the lease's liveness columns (renewals, issue 15) are not history
          t === 'aol_lease' ? { ...r, renewed_at_utc: undefined, expires_at_utc: undefined } : r,
        ),
      );
    return out;
  };
  return db.withClient(async (client) => {
    await client.query('BEGIN');
    const live = await snap(client);
    await client.query('SELECT aol_rebuild()');
    const rebuilt = await snap(client);
    await client.query('ROLLBACK');
    const diff = tables.filter((t) => live[t] !== rebuilt[t]);
    return diff.length ? { equal: false, diff: diff.join(', ') } : { equal: true };
  });
}

function printSummary(results: CheckResult[], opts: Opts, events: number, ops: number): void {
  console.log(
    `\nchaos summary — seed ${opts.seed}, ${opts.minutes} min, ${opts.workers} workers, ${ops} chaos operations, ${events} events`,
  );
  const w = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(w)}  ${r.figure}`);
    for (const p of r.problems) console.log(`        - ${p}`);
  }
}

process.exitCode = await main();
