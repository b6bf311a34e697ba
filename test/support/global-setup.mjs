// Plain ESM (Jest loads global setup outside its module system); uses the
// compiled sources from dist/, which `npm test` builds first (pretest).
import pg from 'pg';
import { tmpdir } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Db } from '../../dist/db/db.js';
import { migrate } from '../../dist/db/migrator.js';
import { startEmbeddedPostgres } from '../../dist/db/embedded.js';
import { chooseTestDatabase, dockerReachable } from './test-database.mjs';

const TEMPLATE = 'aol_template';

/**
 * One PostgreSQL for the run (test/support/test-database.mjs chooses which). A migrated template database is built once;
 * each test file clones it (test/support/db.ts). Databases of the previous
 * run are dropped here, not at the end, so a failed run's stay for inspection.
 */
export default async function globalSetup() {
  // The marker every process of this run inherits (test/support/leaks.mjs).
  process.env.AOL_TEST_RUN_ID = randomBytes(8).toString('hex');
  const choice = chooseTestDatabase(
    process.env,
    process.env.AOL_TEST_POSTGRES && !process.env.TEST_DATABASE_URL
      ? await dockerReachable(process.env)
      : false,
  );
  if (choice.note) console.log(`\n[test] ${choice.note}`);
  let admin;
  if (choice.kind === 'url') {
    admin = choice.url;
    console.log(`\n[test] PostgreSQL from TEST_DATABASE_URL`);
  } else if (choice.kind === 'testcontainers') {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:18').start();
    globalThis.__AOL_CONTAINER__ = container;
    admin = container.getConnectionUri();
    console.log(`\n[test] PostgreSQL in a container (testcontainers)`);
  } else {
    // One data directory per user and checkout: another user's (or checkout's)
    // run in a shared temp dir neither blocks nor shares this one.
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const key = createHash('sha256').update(root).digest('hex').slice(0, 8);
    const dir = join(tmpdir(), `aol-test-embedded-${process.getuid?.() ?? 'u'}-${key}`);
    const embedded = await startEmbeddedPostgres(dir, {
      fast: true,
      log: (m) => console.log(`[test] ${m}`),
    });
    globalThis.__AOL_EMBEDDED__ = embedded;
    admin = embedded.url('postgres');
    console.log(`\n[test] embedded PostgreSQL at ${admin.replace(/:[^:@/]+@/, ':****@')}`);
  }
  process.env.AOL_TEST_ADMIN_URL = admin;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT datname FROM pg_database WHERE datname LIKE 'aol\\_t\\_%' OR datname = $1`,
      [TEMPLATE],
    );
    for (const r of rows) await client.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE}`);
    const { rows: v } = await client.query('SHOW server_version');
    console.log(`[test] server version ${v[0].server_version}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${TEMPLATE}`;
  const db = new Db(url.toString(), { max: 1 });
  await migrate(db);
  await db.close();
}
