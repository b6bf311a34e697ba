import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { Db } from '../../src/db/db.js';
import { EventStore } from '../../src/events/event-store.js';
import type { NewEvent, StoredEvent } from '../../src/events/event.types.js';

export function adminUrl(): string {
  const url = process.env.AOL_TEST_ADMIN_URL;
  if (!url)
    throw new Error('AOL_TEST_ADMIN_URL is not set: run the tests through jest (global setup)');
  return url;
}

export function urlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

export type TestDb = Readonly<{ name: string; url: string; db: Db }>;

/** A fresh database cloned from the migrated template; kept after the run for inspection. */
export async function createTestDb(label: string, opts: { empty?: boolean } = {}): Promise<TestDb> {
  const name = `aol_t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  await adminQuery(
    opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE aol_template`,
  );
  const url = urlFor(name);
  return { name, url, db: new Db(url, { max: 20 }) };
}

/** Poll `fn` until it returns a truthy value; fail after `timeoutMs` with the last value. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 20000,
  label = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `timed out waiting for ${label}; last value ${JSON.stringify(last)} ${lastErr ? String(lastErr) : ''}`,
  );
}

/** Append in a transaction of its own (what the product always does inside the transaction of its decision). */
export function appendAlone(db: Db, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  return db.tx((c) => EventStore.append(c, events));
}
