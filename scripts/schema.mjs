#!/usr/bin/env node
// npm run schema:check | schema:update — the committed schema snapshot.
//
//   node scripts/schema.mjs check   migrate a scratch database, pg_dump its
//                                   schema, fail (exit 1) with a diff when it
//                                   differs from sql/schema.snapshot.sql
//   node scripts/schema.mjs update  write the migrated schema to the snapshot
//   --database URL                  check/dump that (already migrated)
//                                   database instead of a scratch one
//
// The server: AOL_SCHEMA_DATABASE_URL, else TEST_DATABASE_URL, else
// postgresql://postgres@127.0.0.1:5432/postgres. It must be PostgreSQL 15, as
// must pg_dump (AOL_PG_DUMP, default /usr/bin/pg_dump): exit 2 otherwise.
// Needs the build (dist/): the npm scripts compile first.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Db } from '../dist/db/db.js';
import { migrate } from '../dist/db/migrator.js';
import {
  diffSnapshots,
  dumpSchema,
  readSnapshot,
  SnapshotVersionError,
} from '../dist/db/schema-snapshot.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SNAPSHOT = join(root, 'sql', 'schema.snapshot.sql');

async function admin(url, sql) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The migrated schema of a scratch database on the server at url, dropped afterwards. */
async function scratchSchema(url) {
  const name = `aol_schema_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin(url, `CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  try {
    const db = new Db(u.toString(), { max: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    return await dumpSchema(u.toString());
  } finally {
    await admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function main(argv) {
  const mode = argv[0];
  const i = argv.indexOf('--database');
  const database = i >= 0 ? argv[i + 1] : undefined;
  if ((mode !== 'check' && mode !== 'update') || (i >= 0 && !database)) {
    console.error('usage: node scripts/schema.mjs check|update [--database URL]');
    return 64;
  }
  const server =
    process.env.AOL_SCHEMA_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgresql://postgres@127.0.0.1:5432/postgres';
  const actual = database ? await dumpSchema(database) : await scratchSchema(server);
  if (mode === 'update') {
    writeFileSync(SNAPSHOT, actual);
    console.log(`wrote sql/schema.snapshot.sql (${actual.split('\n').length} lines)`);
    return 0;
  }
  const diff = await diffSnapshots(readSnapshot(SNAPSHOT), actual);
  if (diff === '') {
    console.log('schema matches sql/schema.snapshot.sql');
    return 0;
  }
  console.log(diff);
  console.error(
    'the migrated schema differs from sql/schema.snapshot.sql (diff above: - snapshot, + migrated). ' +
      'If the change is intended, run `npm run schema:update` and commit the snapshot.',
  );
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof SnapshotVersionError ? err.message : err);
    process.exit(err instanceof SnapshotVersionError ? 2 : 1);
  },
);
