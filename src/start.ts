#!/usr/bin/env node
import { spawn, ChildProcess } from 'node:child_process';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startApi } from './api.js';
import { loadConfig, maskUrl } from './config/config.js';
import { Db, waitForDatabase } from './db/db.js';
import { startEmbeddedPostgres, EmbeddedDb } from './db/embedded.js';
import { migrate } from './db/migrator.js';
import { onShutdown } from './common/shutdown.js';
import { logger } from './common/log.js';

/**
 * `npm start`: everything in one command. Without DATABASE_URL it runs an
 * embedded PostgreSQL kept under ./.aol/ (and writes its URL to
 * ./.aol/database-url so the `aol` CLI finds it), applies migrations,
 * starts the API and one worker (a child process, as in production).
 *
 * Shutdown order (Ctrl-C, SIGTERM): the worker finishes its action, records
 * its tick and releases its lease; then the API closes; then PostgreSQL
 * stops. A terminal's Ctrl-C reaches the worker directly (same process
 * group) but not PostgreSQL, which runs in a group of its own.
 */
async function ensureDatabase(embedded: EmbeddedDb, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: embedded.url('postgres') });
  client.on('error', () => undefined); // a dropped connection fails the query below instead
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

const log = (m: string) => logger('start').info(m);

let stopping = false;

function startWorker(databaseUrl: string): ChildProcess {
  const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.js');
  const child = spawn(process.execPath, [cli, 'worker'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    log(
      `worker exited (${signal ?? `code ${code}`}); the API keeps running — \`node dist/cli.js worker\` starts another`,
    );
  });
  return child;
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}
try {
  const config = loadConfig();
  let url = config.databaseUrl;
  let embedded: EmbeddedDb | undefined;
  const stateDir = resolve('.aol');
  if (!url) {
    log(`no DATABASE_URL: starting embedded PostgreSQL (data in ${stateDir})`);
    embedded = await startEmbeddedPostgres(stateDir, { log });
    await ensureDatabase(embedded, 'aol');
    url = embedded.url('aol');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'database-url'), url + '\n', { mode: 0o600 });
  }
  log(`database ${maskUrl(url)}`);
  const db = new Db(url, { max: 1, applicationName: 'aol-migrate' });
  await waitForDatabase(db, config.dbStartupRetrySecs, log);
  await migrate(db, log);
  await db.close();
  const api = await startApi({ ...config, databaseUrl: url });
  const worker = startWorker(url);
  log(
    `AOL is up: API and UI on ${api.url.replace('127.0.0.1', 'localhost')}, one worker — Ctrl-C stops it`,
  );
  onShutdown(async () => {
    stopping = true;
    log('stopping: the worker first, then the API, then the database');
    await stopWorker(worker);
    await api.close();
    log('API closed');
    if (embedded) {
      rmSync(join(stateDir, 'database-url'), { force: true });
      await embedded.stop();
      log('PostgreSQL stopped');
    }
    log('stopped');
  });
} catch (err) {
  logger('start', process.stderr).fatal(`start failed: ${(err as Error).message}`);
  process.exit(1);
}
