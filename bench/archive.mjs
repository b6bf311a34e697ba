// 11. archive — issue 15's "verify that scales" and "archiving": incremental
//     verify of BENCH_VERIFY_NEW (100,000) events appended after a signed
//     checkpoint; a full verify in events/s beside the raw read floor (a plain
//     cursor read of the same rows into Node); `aol events archive` of
//     BENCH_ARCHIVE_EVENTS (1,000,000) events, and the live table's size
//     (pg_total_relation_size summed over its partitions) before and after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Db } from '../dist/db/db.js';
import { migrate } from '../dist/db/migrator.js';
import { archive, planArchive } from '../dist/events/archive.js';
import { verifyLog } from '../dist/events/checkpoint-verify.js';
import { createCheckpoint } from '../dist/events/checkpoints.js';
import { EventStore } from '../dist/events/event-store.js';
import { generateSigningKeyPair, parsePrivateKey } from '../dist/common/signing.js';
import { table, urlFor } from './lib.mjs';

/** n tick-sized events on the `log` stream (no read model to project), BATCH per append. */
async function fill(db, n) {
  const BATCH = 5000;
  for (let i = 0; i < n; i += BATCH) {
    const k = Math.min(BATCH, n - i);
    await db.query(
      `SELECT count(*) FROM aol_append_many(array_fill('log'::text, ARRAY[$1::int]), NULL,
          array_fill('BenchFiller'::text, ARRAY[$1::int]),
          ARRAY(SELECT jsonb_build_object('started_at', now(), 'finished_at', now(), 'status', 'ok',
                  'actions_attempted', 0, 'actions_succeeded', 0, 'worker', 'bench-worker-1', 'epoch', g)
                  FROM generate_series(1, $1) g),
          array_fill('{"actor": "bench-worker-1", "via": "worker"}'::jsonb, ARRAY[$1::int]))`,
      [k],
    );
  }
}

const liveBytes = async (db) =>
  Number(
    (
      await db.query(
        `SELECT coalesce(sum(pg_total_relation_size(relid)), 0) AS b FROM pg_partition_tree('aol_events')`,
      )
    ).rows[0].b,
  );

/**
 * The floor: every row read into Node through a plain cursor, 5,000 at a time
 * (verify's page size), each column left as the text PostgreSQL sent (no
 * JSON.parse, no Date): reading and nothing else.
 */
const asText = { getTypeParser: () => (v) => v };
async function rawRead(url) {
  const c = new pg.Client({ connectionString: url, types: asText });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query('DECLARE r NO SCROLL CURSOR FOR SELECT * FROM aol_events ORDER BY seq');
    let n = 0;
    for (;;) {
      const { rows } = await c.query('FETCH 5000 FROM r');
      if (rows.length === 0) break;
      n += rows.length;
    }
    await c.query('COMMIT');
    return n;
  } finally {
    await c.end();
  }
}

const timed = async (fn) => {
  const t0 = performance.now();
  const value = await fn();
  return { value, s: (performance.now() - t0) / 1000 };
};

export async function archiveBench(admin, results) {
  const archiveN = Number(process.env.BENCH_ARCHIVE_EVENTS ?? 1_000_000);
  const newN = Number(process.env.BENCH_VERIFY_NEW ?? 100_000);
  const rowsPer = Number(process.env.BENCH_PARTITION_ROWS ?? 100_000);
  const name = 'bench_archive';
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.query(`ALTER DATABASE ${name} SET aol.events_partition_rows = ${rowsPer}`);
  await c.end();
  const url = urlFor(admin, name);
  const db = new Db(url, { max: 4, applicationName: 'aol-bench' });
  const out = mkdtempSync(join(tmpdir(), 'aol-bench-archive-'));
  try {
    await migrate(db);
    const store = new EventStore(db);
    const keys = generateSigningKeyPair();
    const key = parsePrivateKey(keys.signingKey);
    const meta = { actor: 'bench', via: 'cli' };
    // the archived prefix: whole partitions up to archiveN, and a checkpoint over them
    const head0 = await store.headSeq();
    const filled = await timed(() => fill(db, archiveN - head0));
    await createCheckpoint(db, key, meta);
    await fill(db, newN);
    const total = await store.headSeq();
    await db.query('VACUUM ANALYZE aol_events');

    const incr = await timed(() => verifyLog(store, db, { key, incremental: true }));
    if (!incr.value.ok || incr.value.mode !== 'incremental') throw new Error(`incremental verify: ${JSON.stringify(incr.value)}`);
    const full = await timed(() => verifyLog(store, db, { key }));
    if (!full.value.ok) throw new Error(`full verify: ${JSON.stringify(full.value)}`);
    const floor = await timed(() => rawRead(url));

    const sizeBefore = await liveBytes(db);
    const plan = await planArchive(db, archiveN + 1);
    const arch = await timed(() => archive(db, plan, out, key, 'bench'));
    const archived = plan.range ? plan.range[1] - plan.range[0] + 1 : 0;
    const sizeAfter = await liveBytes(db);
    const both = await timed(() => verifyLog(store, db, { key, archive: out }));
    if (!both.value.ok) throw new Error(`verify --archive: ${JSON.stringify(both.value)}`);

    const mb = (b) => b / 2 ** 20;
    const r = {
      events: total,
      partition_rows: rowsPer,
      fill_events_per_s: (archiveN - head0) / filled.s,
      incremental_verify: { events: incr.value.checked, seconds: incr.s, events_per_s: incr.value.checked / incr.s },
      full_verify: { events: full.value.checked, seconds: full.s, events_per_s: full.value.checked / full.s },
      raw_read_floor: { events: floor.value, seconds: floor.s, events_per_s: floor.value / floor.s },
      archive: { events: archived, seconds: arch.s, events_per_s: archived / arch.s, manifest: arch.value.manifestFile },
      verify_with_archive: { events: both.value.checked, seconds: both.s, events_per_s: both.value.checked / both.s },
      live_bytes_before: sizeBefore,
      live_bytes_after: sizeAfter,
      bytes_per_event_before: sizeBefore / total,
    };
    results.archive = r;
    table(`archive and verify (${total.toLocaleString('en-US')} events, partitions of ${rowsPer.toLocaleString('en-US')})`, [
      { what: `incremental verify (${newN.toLocaleString('en-US')} new events after a checkpoint)`, seconds: incr.s, 'events/s': r.incremental_verify.events_per_s },
      { what: 'full verify (every live event)', seconds: full.s, 'events/s': r.full_verify.events_per_s },
      { what: 'raw read floor (plain cursor, same rows)', seconds: floor.s, 'events/s': r.raw_read_floor.events_per_s },
      { what: `archive ${archived.toLocaleString('en-US')} events (segments, manifest, drop)`, seconds: arch.s, 'events/s': r.archive.events_per_s },
      { what: 'verify --archive --full (archive + live, one chain)', seconds: both.s, 'events/s': r.verify_with_archive.events_per_s },
    ]);
    table('live table size (pg_total_relation_size over its partitions)', [
      { when: 'before archiving', MiB: mb(sizeBefore), 'bytes/event': sizeBefore / total },
      { when: 'after archiving', MiB: mb(sizeAfter), 'bytes/event': sizeAfter / Math.max(1, total - archived) },
    ]);
  } finally {
    await db.close();
    rmSync(out, { recursive: true, force: true });
  }
}
